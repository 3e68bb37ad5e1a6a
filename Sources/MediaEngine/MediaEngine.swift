/// RTP/RTCP sessions on a dedicated media loop.
public enum MediaEngineModule {}
