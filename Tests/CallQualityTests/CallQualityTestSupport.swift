// Tests for CallQuality live beside this file.
