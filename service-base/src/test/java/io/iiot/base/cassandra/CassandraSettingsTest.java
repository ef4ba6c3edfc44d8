package io.iiot.base.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.config.ConfigException;
import org.junit.jupiter.api.Test;

class CassandraSettingsTest {

  @Test
  void replicationSpecsBecomeCqlMaps() {
    assertThat(CassandraSettings.replicationCql("SimpleStrategy:1"))
        .isEqualTo("{'class': 'SimpleStrategy', 'replication_factor': 1}");
    assertThat(CassandraSettings.replicationCql("NetworkTopologyStrategy:dc1=3, dc2=2"))
        .isEqualTo("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
  }

  @Test
  void badReplicationSpecsAreConfigErrors() {
    for (String bad : new String[] {"Simple", "SimpleStrategy:0", "SimpleStrategy:x", "NetworkTopologyStrategy:dc1",
        "NetworkTopologyStrategy:dc'1=3", "LocalStrategy:1"}) {
      assertThatThrownBy(() -> CassandraSettings.replicationCql(bad))
          .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("cassandra.replication");
    }
  }

  @Test
  void contactPointsDefaultToPort9042() {
    assertThat(CassandraSettings.parseHostPort("k", "db1").getPort()).isEqualTo(9042);
    assertThat(CassandraSettings.parseHostPort("k", "db1:9142").getPort()).isEqualTo(9142);
    assertThatThrownBy(() -> CassandraSettings.parseHostPort("k", "db1:abc")).isInstanceOf(ConfigException.class);
  }
}
