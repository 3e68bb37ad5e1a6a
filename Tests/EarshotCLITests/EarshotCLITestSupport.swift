// Tests for EarshotCLI live beside this file.
