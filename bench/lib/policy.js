/**
 * A one-database policy for the benchmarks: database `bench`, admin password from
 * JIT_BENCH_ADMIN_PW; PostgreSQL's superuser unless `server` names another engine and admin.
 */
export function benchPolicy(port, role, server = { engine: 'postgres', adminUser: 'postgres' }) {
  return `version: 1
databases:
  bench:
    engine: ${server.engine}
    host: 127.0.0.1
    port: ${port}
    database: app
    tls: disable
    admin:
      user: ${server.adminUser}
      password: env:JIT_BENCH_ADMIN_PW
    roles:
      ${role.name}:
        ttl: ${role.ttl}
        max_ttl: 1h
        grants:
          - privileges: [SELECT]
            tables: [${role.tables.join(', ')}]
`;
}
