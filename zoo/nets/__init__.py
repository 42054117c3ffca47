"""The networks we publish: plain nn.Modules with JSON-serialisable constructor arguments."""
