package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Small shared pieces of the stores: keyspace prefix, async execution as Vert.x futures, paging, blobs. */
final class Cql {
  private Cql() {}

  static String ks(String keyspace) {
    return CqlIdentifier.fromInternal(keyspace).asCql(true) + ".";
  }

  static Future<AsyncResultSet> exec(CqlSession session, Statement<?> st) {
    return Future.fromCompletionStage(session.executeAsync(st));
  }

  /** Every row of the result (all pages), mapped. */
  static <T> Future<List<T>> all(CqlSession session, Statement<?> st, Function<Row, T> map) {
    return exec(session, st).compose(rs -> pages(rs, map, new ArrayList<>()));
  }

  private static <T> Future<List<T>> pages(AsyncResultSet rs, Function<Row, T> map, List<T> out) {
    for (Row r : rs.currentPage()) {
      out.add(map.apply(r));
    }
    if (rs.hasMorePages()) {
      return Future.fromCompletionStage(rs.fetchNextPage()).compose(n -> pages(n, map, out));
    }
    return Future.succeededFuture(out);
  }

  static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b == null ? 0 : b.remaining()];
    if (b != null) {
      b.duplicate().get(out);
    }
    return out;
  }

  static String text(Row r, String col) {
    String s = r.getString(col);
    return s == null ? "" : s;
  }
}
