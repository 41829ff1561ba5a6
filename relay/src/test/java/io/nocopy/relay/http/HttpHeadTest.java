package io.nocopy.relay.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one head parser: requests as the relay reads them, responses as a cascade reads them. */
class HttpHeadTest {
  private static InputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static HttpHead.Request request(String s) throws IOException {
    return HttpHead.readRequest(HttpHead.LineSource.of(stream(s)));
  }

  private static HttpHead.Response response(String s) throws IOException {
    return HttpHead.readResponse(HttpHead.LineSource.of(stream(s)));
  }

  private static int refusal(String request) {
    return assertThrows(HttpHead.Malformed.class, () -> request(request), request).status();
  }

  @Test
  void aRequestHeadWithItsFieldsPathAndQuery() throws IOException {
    HttpHead.Request r = request("PUT /live.mp3?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type:  audio/mpeg \r\n"
        + "transfer-encoding: chunked\r\n\r\nbody");
    assertEquals("PUT", r.method());
    assertEquals("/live.mp3?x=1", r.target());
    assertEquals("/live.mp3", r.path());
    assertEquals("HTTP/1.1", r.version());
    assertEquals("audio/mpeg", r.header("content-type"));
    assertNull(r.header("Expect"));
    assertTrue(r.chunked());
    assertEquals("1", r.query().get("x"));
    assertEquals("SOURCE", request("SOURCE /m ICE/1.0\nAuthorization: Basic x\n\n").method(), "bare LF, ICE/1.0");
    assertNull(request(""), "a client that left before a request");
  }

  @Test
  void queryParameters() throws IOException {
    var q = request("GET /admin/metadata?mode=updinfo&mount=%2Flive.mp3&song=A+%26+B&song=x&bad=%zz&flag"
        + " HTTP/1.0\r\n\r\n").query();
    assertEquals("updinfo", q.get("mode"));
    assertEquals("/live.mp3", q.get("mount"));
    assertEquals("A & B", q.get("song"), "decoded, first wins");
    assertEquals("%zz", q.get("bad"), "malformed escapes kept");
    assertEquals("", q.get("flag"));
    assertTrue(request("GET /x HTTP/1.0\r\n\r\n").query().isEmpty());
  }

  @Test
  void malformedOrOversizedRequestsAreRefusedWithTheirStatus() {
    assertEquals(400, refusal("GET /x\r\n\r\n"));
    assertEquals(400, refusal("get /x HTTP/1.0\r\n\r\n"));
    assertEquals(400, refusal("GET /x HTTP/2\r\n\r\n"));
    assertEquals(400, refusal("GET /x HTTP/1.0\r\nno colon\r\n\r\n"));
    assertEquals(400, refusal("GET /x HTTP/1.0\r\n folded: x\r\n\r\n"));
    assertEquals(400, refusal("GET /x HTTP/1.0\r\nHost: h\r\n"), "closed inside the head");
    assertEquals(400, refusal("GET /" + "x".repeat(HttpHead.MAX_BYTES) + " HTTP/1.0\r\n\r\n"));
    assertEquals(431, refusal("GET /x HTTP/1.0\r\nBig: " + "x".repeat(HttpHead.MAX_BYTES) + "\r\n\r\n"));
    assertEquals(431, refusal("GET /x HTTP/1.0\r\n" + "A: b\r\n".repeat(101) + "\r\n"));
    StringBuilder many = new StringBuilder("GET /x HTTP/1.0\r\n");
    for (int i = 0; i < 90; i++) {
      many.append("Field").append(i).append(": ").append("v".repeat(90)).append("\r\n");
    }
    assertEquals(431, refusal(many + "\r\n"), "fields within the count but over the byte cap");
  }

  @Test
  void responseHeadsOfHttpAndIcyServers() throws IOException {
    HttpHead.Response r = response("HTTP/1.0 200 OK\r\nContent-Type: audio/ogg\r\nicy-name:A Radio\r\n\r\n");
    assertEquals(200, r.status());
    assertEquals("HTTP/1.0 200 OK", r.statusLine());
    assertEquals("audio/ogg", r.header("Content-Type"));
    assertEquals("A Radio", r.header("icy-name"));
    assertEquals(200, response("ICY 200 OK\r\n\r\n").status());
    HttpHead.Response noReason = response("HTTP/1.1 404\r\n\r\n");
    assertEquals(404, noReason.status());
    assertEquals("HTTP/1.1 404", noReason.statusLine());
    assertEquals(List.of(), noReason.headers());
    for (String bad : new String[] {"HTTP/1.0 2000 OK\r\n\r\n", "SPDY 200 OK\r\n\r\n", "HTTP/1.0 2x0 OK\r\n\r\n",
        "HTTP/1.0\r\n\r\n", "HTTP/1.0 200 OK\r\nbad field\r\n\r\n"}) {
      assertThrows(HttpHead.Malformed.class, () -> response(bad), bad);
    }
    assertThrows(EOFException.class, () -> response(""));
  }

  @Test
  void aLineSourceOverAStreamLeavesTheBodyUnread() throws IOException {
    InputStream in = stream("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nBODY");
    HttpHead.LineSource lines = HttpHead.LineSource.of(in);
    assertEquals(100, HttpHead.readResponse(lines).status());
    assertEquals(200, HttpHead.readResponse(lines).status());
    assertEquals("BODY", new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
    assertThrows(EOFException.class, () -> HttpHead.LineSource.of(stream("no end")).readLine(100));
    assertThrows(java.net.ProtocolException.class, () -> HttpHead.LineSource.of(stream("abcdef\r\n")).readLine(5));
    assertEquals("abcde", HttpHead.LineSource.of(stream("abcde\r\n")).readLine(5));
  }
}
