package io.nocopy.relay.config;

import java.util.Map;

/**
 * What the server says about itself: {@code <hostname>}, {@code <location>}, {@code <admin>} and
 * the {@code <http-headers>} sent with every answer. Immutable.
 *
 * @param hostname the host name in stream URLs ({@code listenurl}, {@code server_url})
 * @param location where the server is (status pages)
 * @param admin the admin's contact (status pages)
 * @param httpHeaders extra headers for every answer, in order
 */
public record Station(String hostname, String location, String admin, Map<String, String> httpHeaders) {

  /** Copies the header map. */
  public Station {
    httpHeaders = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(httpHeaders));
  }

  /** Icecast 2.4's values when icecast.xml does not set them. */
  public static Station defaults() {
    return new Station("localhost", "Earth", "icemaster@localhost", Map.of());
  }
}
