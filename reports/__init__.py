"""The read models rendered for people: the HTML progress report (`html_report.py`, template
`templates/rapport.html`) and the status as Markdown (`dashboard.py`). Pure functions of the values
`models.read` returns; a sibling of `notifications` (which renders and delivers notices), below
`flows` and the shell, above `models`."""
