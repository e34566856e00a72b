"""The installation's configuration, a leaf every layer may import: the settings read from the
environment (`settings.py`) and Prefect's environment, set before `import prefect`
(`prefect_env.py`, with its `logging.yml`). Imports nothing of the project."""
