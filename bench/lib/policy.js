/** A one-database policy for the benchmarks: database `bench`, admin password from JIT_BENCH_ADMIN_PW. */
export function benchPolicy(port, role) {
  return `version: 1
databases:
  bench:
    engine: postgres
    host: 127.0.0.1
    port: ${port}
    database: app
    tls: disable
    admin:
      user: postgres
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
