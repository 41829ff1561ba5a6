package io.nocopy.relay;

import org.junit.jupiter.api.Tag;

/** {@link LateListenerTest} as the issue measured it: listeners join 15 s late, default burst. */
@Tag("integration")
class LateListenerIntegrationTest extends LateListenerTest {
  @Override
  int lateSeconds() {
    return 15;
  }

  @Override
  long burstBytes() {
    return 64 * 1024;
  }

  @Override
  String[] relayFlags() {
    return new String[0];
  }
}
