package io.iiot.it.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.IntPredicate;

/** Small HTTP helpers for probing services. */
public final class Http {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Http() {}

  /** GET; status -1 when nothing answers. */
  public static HttpResponse<String> get(String url) {
    try {
      return CLIENT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  public static int status(String url) {
    HttpResponse<String> r = get(url);
    return r == null ? -1 : r.statusCode();
  }

  /** Polls until the status matches; returns the time it took, or throws with the last status and body. */
  public static Duration await(String url, IntPredicate expected, Duration timeout) throws InterruptedException {
    long t0 = System.nanoTime();
    HttpResponse<String> last = null;
    while (System.nanoTime() - t0 < timeout.toNanos()) {
      last = get(url);
      if (last != null && expected.test(last.statusCode())) {
        return Duration.ofNanos(System.nanoTime() - t0);
      }
      Thread.sleep(200);
    }
    throw new AssertionError(url + " did not reach the expected status within " + timeout + "; last: "
        + (last == null ? "no answer" : last.statusCode() + " " + last.body()));
  }
}
