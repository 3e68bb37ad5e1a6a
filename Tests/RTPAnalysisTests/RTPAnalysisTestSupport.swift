// Tests for RTPAnalysis live beside this file.
