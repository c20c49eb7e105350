"""Item pipelines (clean -> store) and the storage layer behind them."""
