"""The LightningModules: training logic only; networks and losses are injected."""
