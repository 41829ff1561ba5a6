package io.nocopy.relay;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** The source password check: HTTP Basic auth, compared in constant time. */
final class BasicAuth {
  private final byte[] expected;

  BasicAuth(String password) {
    this.expected = digest(("source:" + password).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Whether an {@code Authorization} header carries {@code source:<password>}. The comparison is
   * of SHA-256 digests with {@link MessageDigest#isEqual}, so neither the length nor the content of
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
