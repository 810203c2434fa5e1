"""The six scenarios of the suite; each module has ``run(config) -> ScenarioResult``."""
