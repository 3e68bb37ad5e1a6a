print("earshot-organizer: not built yet")
