/**
 * nocopy relay: an Icecast-compatible HTTP stream relay. One source per mount, many listeners,
 * fan-out through kernel pipes ({@code splice}/{@code tee}) or shared pooled slices.
 */
module io.nocopy.relay {
  requires io.nocopy;
  requires java.logging;
  requires java.management;
  requires jdk.management;
  requires java.xml;
  requires jdk.unsupported;

  exports io.nocopy.relay;
  exports io.nocopy.relay.http;
}
