"""The process of `transitions serve` that serves the deployments (`python -m transitions.serve_flows`):
Prefect's runner, which starts each flow run in a process of its own, and the first tick. Started
and stopped by `transitions.serve` (SIGTERM: the runner cancels its runs and returns)."""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console

from config.prefect_env import configure_prefect
from config.settings import get_settings
from transitions.processes import give_way_to_people


def first_tick(console: Console) -> None:
    """Once the deployments are registered, run the tick now: it acts for the present instant and
    puts the live programmes' next instants on Prefect's calendar."""
    from prefect.deployments import run_deployment

    for _ in range(120):
        try:
            run_deployment("tick/tick", timeout=0, as_subflow=False, flow_run_name="démarrage du service")
            return
        except Exception:  # not registered yet
            time.sleep(1)
    console.print("[yellow]Le premier tick n'a pas pu être lancé : le tick horaire prendra le relais.[/]")


def main(arguments: list[str]) -> None:
    """Serve every deployment until SIGTERM, its flow runs giving way to the portal's pages
    (`give_way_to_people`); `--sans-tick`: no tick at start."""
    give_way_to_people()
    configure_prefect(get_settings())
    from prefect import serve as prefect_serve

    from flows.deployments import deployments

    if "--sans-tick" not in arguments:
        threading.Thread(target=first_tick, args=(Console(),), daemon=True).start()
    prefect_serve(*deployments(), print_starting_message=False)


if __name__ == "__main__":
    main(sys.argv[1:])
