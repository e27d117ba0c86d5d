"""Sessions of the loop, logged as JSON lines in the data folder; history and reports.

Core: no LSP here. The CLI (`fixloop fix`, `history`, `report`) and the server both log
through `SessionLog`, whose `event` method is the engine's `on_event` sink.
"""
