package io.nocopy.bench.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class RequestHeadTest {
  private static String basic(String userPass) {
    return "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void parsesAnIcecastPutSource() throws Exception {
    RequestHead h = RequestHead.parse("PUT /bench.mp3 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: "
        + basic("source:pw") + "\r\nContent-Type: audio/mpeg\r\nEXPECT: 100-Continue");
    assertEquals("PUT", h.method());
    assertEquals("/bench.mp3", h.path());
    assertEquals("HTTP/1.1", h.version());
    assertEquals("audio/mpeg", h.headers().get("content-type"));
    assertTrue(h.expectsContinue());
    assertTrue(h.sourceAuthorized("pw"));
    assertFalse(h.sourceAuthorized("other"));
  }

  @Test
  void authorizationNeedsUserSourceAndValidBase64() throws Exception {
    assertFalse(RequestHead.parse("SOURCE /m HTTP/1.0\r\nAuthorization: " + basic("admin:pw")).sourceAuthorized("pw"));
    assertFalse(RequestHead.parse("SOURCE /m HTTP/1.0\r\nAuthorization: Basic !!!").sourceAuthorized("pw"));
    assertFalse(RequestHead.parse("SOURCE /m HTTP/1.0").sourceAuthorized("pw"));
    assertFalse(RequestHead.parse("GET /m HTTP/1.0").expectsContinue());
  }

  @Test
  void malformedHeadsAreProtocolErrors() {
    assertThrows(ProtocolException.class, () -> RequestHead.parse("GET /m"));
    assertThrows(ProtocolException.class, () -> RequestHead.parse("GET m HTTP/1.0"));
    assertThrows(ProtocolException.class, () -> RequestHead.parse("GET /m HTTP/2"));
    assertThrows(ProtocolException.class, () -> RequestHead.parse("GET /m HTTP/1.0\r\nno colon here"));
    assertThrows(ProtocolException.class, () -> RequestHead.parse("GET /m HTTP/1.0\r\n: empty name"));
  }
}
