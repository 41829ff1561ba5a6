package io.nocopy.relay;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * One pair of credentials checked as HTTP Basic auth, compared in constant time: the source
 * password ({@code source:<password>}) or the admin pages' ({@code <admin-user>:<password>}).
 * Immutable; shared by every connection.
 */
final class BasicAuth {
  /**
   * Icecast's answer to an {@code /admin/} request without valid credentials, byte for byte but
   * the {@code Server} and {@code Date} values: no {@code Content-Length}, the body ends with the
   * connection.
   */
  static byte[] adminChallenge() {
    return Responses.page(401, "text/plain; charset=utf-8", "You need to authenticate\r\n", false,
        "WWW-Authenticate: Basic realm=\"Icecast2 Server\"");
  }

  private final byte[] expected;

  /**
   * Credentials {@code user:password}.
   *
   * @param user the user name (sources use {@code source})
   * @param password the password
   */
  BasicAuth(String user, String password) {
    this.expected = digest((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Whether an {@code Authorization} header carries these credentials. The comparison is of
   * SHA-256 digests with {@link MessageDigest#isEqual}, so neither the length nor the content of
   * the password leaks through timing.
   *
   * @param authorization the header value, may be null
   * @return true if it matches
   */
  boolean accepts(String authorization) {
    byte[] given = new byte[0];
    if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      try {
        given = Base64.getDecoder().decode(authorization.substring(6).strip());
      } catch (IllegalArgumentException e) {
        given = new byte[0];
      }
    }
    return MessageDigest.isEqual(expected, digest(given));
  }

  private static byte[] digest(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
