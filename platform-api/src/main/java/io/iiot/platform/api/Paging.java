package io.iiot.platform.api;

import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.storage.Page;

/** Page tokens of one List call, bound to the method, the caller's tenant and the query. */
final class Paging {
  private final PageTokens tokens;
  private final String binding;

  Paging(PageTokens tokens, String method, Principal caller, String query, int pageSize) {
    this.tokens = tokens;
    this.binding = method + "\u0000" + caller.tenant() + "\u0000" + query + "\u0000" + pageSize;
  }

  /** The cursor to start after: empty for the first page. */
  String cursor(String pageToken) {
    return pageToken.isEmpty() ? "" : tokens.cursor(pageToken, binding);
  }

  /** A token for a back end's own next-page cursor; empty when the back end says there is no next page. */
  String nextToken(String backendCursor) {
    return backendCursor.isEmpty() ? "" : tokens.issue(binding, backendCursor);
  }

  String nextToken(Page<?> page) {
    return page.nextCursor().map(c -> tokens.issue(binding, c)).orElse("");
  }
}
