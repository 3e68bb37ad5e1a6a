import ArgumentParser
import EarshotCLI

await Earshot.main()
