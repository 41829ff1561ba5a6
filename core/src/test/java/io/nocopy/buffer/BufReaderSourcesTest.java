package io.nocopy.buffer;

import io.nocopy.memory.Tier;
import java.nio.channels.ReadableByteChannel;
import org.junit.jupiter.api.Nested;

/** Runs the {@link BufReaderContract} against every source chunking and a spread of block sizes. */
class BufReaderSourcesTest {
  @Nested
  class OneBytePerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, 1);
    }

    @Override
    Tier tier() {
      return Tier.PICO;
    }
  }

  @Nested
  class TwoBytesPerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, 2);
    }

    @Override
    Tier tier() {
      return Tier.NANO;
    }
  }

  @Nested
  class RandomSizesPerRead extends BufReaderContract {
    private long seed = 42;

    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.random(data, seed++, 1, 4096);
    }

    @Override
    Tier tier() {
      return Tier.MEDIUM;
    }
  }

  @Nested
  class WholeBufferPerRead extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, Integer.MAX_VALUE);
    }

    @Override
    Tier tier() {
      return BufReader.DEFAULT_TIER;
    }
  }

  @Nested
  class WholeBufferSmallBlocks extends BufReaderContract {
    @Override
    ReadableByteChannel source(byte[] data) {
      return ChunkedChannel.fixed(data, Integer.MAX_VALUE);
    }

    @Override
    Tier tier() {
      return Tier.MICRO;
    }
  }
}
