"""Developer tools that production never runs: `flask demo`, the OneTablet simulator
(`flask onetablet-sim`, and in tests) with its restaurants, and `flask seed-history`."""


def register(app) -> None:
    """Add the developer commands to `flask --app wsgi`."""
    from . import demo, seed_history, simulator_cli

    simulator_cli.register(app)  # `onetablet-sim`: a stand-in for OneTablet
    demo.register(app)  # `demo`: Passline, the simulator and simulated customers
    seed_history.register(app)  # `seed-history`: finished orders for report demos and benchmarks
