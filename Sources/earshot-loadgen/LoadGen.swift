print("earshot-loadgen: not built yet")
