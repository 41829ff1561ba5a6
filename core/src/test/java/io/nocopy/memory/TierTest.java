package io.nocopy.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TierTest {
  @Test
  void twelvePowerOfFourTiersFrom32BytesTo128MiB() {
    assertEquals(12, Tier.values().length);
    assertEquals(32, Tier.PICO.size());
    assertEquals(128, Tier.NANO.size());
    assertEquals(2048, Tier.SMALL.size());
    assertEquals(32 * 1024, Tier.BIG.size());
    assertEquals(128L << 20, Tier.TITAN.size());
    for (int i = 1; i < 12; i++) {
      assertEquals(Tier.values()[i - 1].size() * 4, Tier.values()[i].size());
    }
  }

  @ParameterizedTest
  @EnumSource(Tier.class)
  void forSizeHasExactBoundaries(Tier t) {
    assertEquals(t, Tier.forSize(t.size()));
    if (t != Tier.TITAN) {
      assertEquals(Tier.values()[t.ordinal() + 1], Tier.forSize(t.size() + 1));
    }
    if (t != Tier.PICO) {
      assertEquals(t, Tier.forSize(Tier.values()[t.ordinal() - 1].size() + 1));
      assertEquals(Tier.values()[t.ordinal() - 1], Tier.forSize(t.size() / 4));
    }
  }

  @Test
  void forSizeOfSmallValues() {
    assertEquals(Tier.PICO, Tier.forSize(0));
    assertEquals(Tier.PICO, Tier.forSize(1));
    assertEquals(Tier.NANO, Tier.forSize(33));
    assertEquals(Tier.MICRO, Tier.forSize(129));
  }

  @Test
  void forSizeRejectsOutOfRange() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tier.forSize(-1));
    assertEquals(true, e.getMessage().contains("-1"));
    assertThrows(IllegalArgumentException.class, () -> Tier.forSize((128L << 20) + 1));
    assertThrows(IllegalArgumentException.class, () -> Tier.forSize(Long.MAX_VALUE));
    assertThrows(IllegalArgumentException.class, () -> Tier.forSize(Long.MIN_VALUE));
  }

  @Test
  void formatsSizes() {
    assertEquals("32 B", Tier.format(32));
    assertEquals("2 KiB", Tier.format(2048));
    assertEquals("128 MiB", Tier.format(128L << 20));
    assertEquals("1.5 KiB", Tier.format(1536));
  }
}
