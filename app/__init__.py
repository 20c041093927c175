"""Browser glue: DOM bindings, the trainer worker and the data cache. Only app/ imports the browser."""
