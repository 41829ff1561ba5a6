package io.nocopy.relay.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Heads read into a small heap buffer that grows with the bytes, within a shared budget. */
class HeadReaderTest {
  /** A channel that hands out its bytes at most {@code step} at a time, recording the largest buffer offered. */
  private static final class Trickle implements ReadableByteChannel {
    final ByteBuffer data;
    final int step;
    int reads;

    Trickle(String s, int step) {
      this.data = ByteBuffer.wrap(s.getBytes(StandardCharsets.ISO_8859_1));
      this.step = step;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (!data.hasRemaining()) {
        return -1;
      }
      reads++;
      int n = Math.min(step, Math.min(dst.remaining(), data.remaining()));
      dst.put(data.slice(data.position(), n));
      data.position(data.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  @Test
  void aHeadThenItsBodysFirstBytes() throws IOException {
    HeadReader.Budget budget = new HeadReader.Budget(1 << 20);
    for (int step : new int[] {1, 7, 100, 100_000}) {
      String head = "PUT /live.mp3 HTTP/1.1\r\nHost: h\r\nContent-Type: audio/mpeg\r\n\r\n";
      try (HeadReader r = new HeadReader(new Trickle(head + "BODY", step), budget)) {
        assertEquals(0, r.held(), "nothing before the first read");
        HttpHead.Request req = HttpHead.readRequest(r);
        assertEquals("/live.mp3", req.path());
        assertEquals("audio/mpeg", req.header("Content-Type"));
        ByteBuffer rest = r.leftover();
        assertEquals("BODY".substring(0, rest.remaining()), StandardCharsets.ISO_8859_1.decode(rest).toString(),
            "what came after the head is kept, step " + step);
        assertTrue(r.held() <= 512, "a small head stays in 512 bytes: " + r.held());
      }
      assertEquals(0, budget.inUse());
    }
  }

  @Test
  void growsToTheCapAndNoFurther() throws IOException {
    HeadReader.Budget budget = new HeadReader.Budget(1 << 20);
    String big = "GET / HTTP/1.0\r\nX-Big: " + "a".repeat(8000) + "\r\n\r\n";
    try (HeadReader r = new HeadReader(new Trickle(big, 1000), budget)) {
      HttpHead.readRequest(r);
      assertTrue(r.held() > 4096 && r.held() <= 8194, String.valueOf(r.held()));
      assertEquals(r.held(), budget.inUse());
    }
    String tooBig = "GET / HTTP/1.0\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n";
    try (HeadReader r = new HeadReader(new Trickle(tooBig, 1000), budget)) {
      assertEquals(431, assertThrows(HttpHead.Malformed.class, () -> HttpHead.readRequest(r)).status());
      assertTrue(r.held() <= 8194);
    }
    // many short lines: consumed lines make room before the buffer grows
    String many = "GET / HTTP/1.0\r\n" + "X: 1\r\n".repeat(60) + "\r\n";
    try (HeadReader r = new HeadReader(new Trickle(many, 1000), budget)) {
      assertEquals(60, HttpHead.readRequest(r).headers().size());
      assertTrue(r.held() <= 512, String.valueOf(r.held()));
    }
    assertEquals(0, budget.inUse());
  }

  @Test
  void endOfStream() throws IOException {
    HeadReader.Budget budget = new HeadReader.Budget(1 << 20);
    try (HeadReader r = new HeadReader(new Trickle("", 10), budget)) {
      assertNull(HttpHead.readRequest(r), "closed before a request");
    }
    try (HeadReader r = new HeadReader(new Trickle("GET / HT", 10), budget)) {
      assertThrows(EOFException.class, () -> HttpHead.readRequest(r));
    }
  }

  @Test
  void theBudgetBoundsAllHeadsTogether() throws IOException {
    HeadReader.Budget budget = new HeadReader.Budget(600);
    HeadReader a = new HeadReader(new Trickle("GET / HTTP/1.0\r\nX: " + "b".repeat(100), 1000), budget);
    assertThrows(EOFException.class, () -> HttpHead.readRequest(a));
    assertEquals(512, budget.inUse());
    HeadReader b = new HeadReader(new Trickle("GET / HTTP/1.0\r\n\r\n", 1000), budget);
    assertThrows(HeadReader.OverBudget.class, () -> HttpHead.readRequest(b),
        "16 more fit, 512 do not");
    b.close();
    a.close();
    a.close();
    assertEquals(0, budget.inUse(), "closing twice gives back once");
  }
}
