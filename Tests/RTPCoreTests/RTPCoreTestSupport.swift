// Tests for RTPCore live beside this file.
