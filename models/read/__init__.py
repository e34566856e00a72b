"""The read side of the domain: what a person sees, as frozen values ready to show (one function per
screen of the portal: `territory`, `consultancy`, `juror`, `overview`; `pilot` for what they share)."""
