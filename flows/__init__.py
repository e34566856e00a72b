"""The Prefect flows. A flow run a worker starts from `prefect.yaml` (`flows/<module>.py:<flow>`)
imports this package before anything of ours: the process's umask is set here, so what its flows
write (the database, the outbox, reports) is for its owner only (`config.private_files`)."""

from config.private_files import private_umask

private_umask()
