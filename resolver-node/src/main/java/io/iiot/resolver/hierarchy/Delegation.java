package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.SiteRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * The values of a prefix handle {@code 0.NA/<prefix>} that say where the prefix lives (reference §2.2, §2.3), and
 * how to build them for a delegate node.
 *
 * <pre>
 * HS_SITE, HS_SITE.6               sites holding the prefix's handles          → service referral (302)
 * HS_SERV                          service handle to resolve for those sites   → passed on in 302 (CNRI follows it)
 * HS_SITE.PREFIX, HS_NA_DELEGATE   site holding the derived prefix handles     → prefix referral (303)
 * HS_SERV.PREFIX                   service handle for them                     → passed on in 303
 * </pre>
 */
public final class Delegation {
  private Delegation() {}

  public static final int SITE_INDEX = 1;
  public static final int PREFIX_SITE_INDEX = 2;

  /**
   * Values delegating a prefix and its derived prefixes to {@code delegate} (e.g. {@code 0.NA/88.101} on the
   * top-level node, pointing at the secondary node): {@code HS_SITE} at 1 and {@code HS_SITE.PREFIX} at 2, both the
   * delegate's site record as it answers GET_SITEINFO (server public key included), publicly readable.
   */
  public static List<HandleValue> values(SiteRecord delegate) {
    byte[] site = delegate.encode();
    return List.of(HandleValue.of(SITE_INDEX, "HS_SITE", site), HandleValue.of(PREFIX_SITE_INDEX, "HS_SITE.PREFIX",
        site));
  }

  /** Only {@code HS_SITE} at 1: the delegate holds the prefix's handles, not further prefix handles. */
  public static List<HandleValue> siteOnly(SiteRecord delegate) {
    return List.of(HandleValue.of(SITE_INDEX, "HS_SITE", delegate.encode()));
  }

  /** Publicly readable values saying where the handles under the prefix live (for a 302). */
  public static List<HandleValue> serviceValues(List<HandleValue> values) {
    return select(values, "HS_SITE", "HS_SITE.6", "HS_SERV");
  }

  /** Publicly readable values saying where the derived prefix handles live (for a 303). */
  public static List<HandleValue> prefixValues(List<HandleValue> values) {
    return select(values, "HS_SITE.PREFIX", "HS_NA_DELEGATE", "HS_SERV.PREFIX");
  }

  /** The site records among {@code values} ({@code HS_SITE*} and {@code HS_NA_DELEGATE}); undecodable ones skipped. */
  public static List<SiteRecord> sites(List<HandleValue> values) {
    List<SiteRecord> out = new ArrayList<>();
    for (HandleValue v : values) {
      String t = v.typeUpper();
      if (t.startsWith("HS_SITE") || t.equals("HS_NA_DELEGATE")) {
        try {
          out.add(SiteRecord.decode(v.data()));
        } catch (HandleCodecException e) {
          // a broken record is no site to go to
        }
      }
    }
    return out;
  }

  private static List<HandleValue> select(List<HandleValue> values, String... types) {
    List<HandleValue> out = new ArrayList<>();
    for (HandleValue v : values) {
      if (!v.publicRead()) {
        continue;
      }
      for (String t : types) {
        if (v.hasType(t)) {
          out.add(v);
          break;
        }
      }
    }
    return out;
  }
}
