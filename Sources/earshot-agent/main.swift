print("earshot-agent: not built yet")
