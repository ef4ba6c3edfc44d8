package io.iiot.base.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class SchemaMigratorTest {
  private static final String RF1 = "{'class': 'SimpleStrategy', 'replication_factor': 1}";

  @Test
  void appliesEachMigrationOnceAndRecordsIt() {
    try (CqlSession session = EmbeddedCassandraExtension.session()) {
      assertThat(new SchemaMigrator(session, "mig_once", RF1, "db/good").migrate()).isEqualTo(2);
      session.execute("INSERT INTO mig_once.things (id, name, size) VALUES (1, 'belt', 7)");
      // a second start applies nothing and keeps the data
      assertThat(new SchemaMigrator(session, "mig_once", RF1, "db/good").migrate()).isZero();
      assertThat(session.execute("SELECT size FROM mig_once.things WHERE id = 1").one().getInt("size")).isEqualTo(7);
      assertThat(session.execute("SELECT version FROM mig_once.schema_migrations").all()).hasSize(2);
      assertThat(session.execute("SELECT owner FROM mig_once.schema_lock WHERE id = 0").one()).isNull();
    }
  }

  @Test
  void refusesAMigrationChangedAfterItWasApplied() {
    try (CqlSession session = EmbeddedCassandraExtension.session()) {
      new SchemaMigrator(session, "mig_changed", RF1, "db/good").migrate();
      assertThatThrownBy(() -> new SchemaMigrator(session, "mig_changed", RF1, "db/changed").migrate())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("V1__first")
          .hasMessageContaining("changed after it was applied");
    }
  }

  @Test
  void splitsScriptsIntoStatements() {
    assertThat(SchemaMigrator.statements("-- c\nCREATE TABLE a (x int,\n y int);\n\nDROP TABLE b;\n"))
        .containsExactly("CREATE TABLE a (x int,\n y int)", "DROP TABLE b");
  }
}
