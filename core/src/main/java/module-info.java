/**
 * nocopy core: pooled off-heap memory ({@link io.nocopy.memory}), chains of pooled blocks read
 * from and written to channels without copying, kernel zero-copy pipes, and the DRPC transport.
 *
 * <p>Native calls need {@code --enable-native-access=io.nocopy}; splice acceleration additionally
 * needs {@code --add-opens java.base/sun.nio.ch=io.nocopy} to find the file descriptors of JDK
 * channels. Without either the library still works, through the pooled buffer layer.
 */
module io.nocopy {
  requires jdk.jfr;

  exports io.nocopy.buffer;
  exports io.nocopy.memory;
  exports io.nocopy.drpc;
  exports io.nocopy.pipe;
  exports io.nocopy.fanout;
}
