/** The annotated starter policy `jit init` writes. A test keeps it valid. */
export function starterPolicy(): string {
  return STARTER;
}

const STARTER = `# jit policy: which short-lived database logins may be minted, and with what privileges.
# Check it with: jit policy check   (errors name the line, the column and the YAML path)
version: 1

databases:
  # The name you type: jit connect prod-db --role readonly. Also the OS keychain account for
  # the admin password (service "jit").
  prod-db:
    engine: postgres            # postgres (PostgreSQL 12 and later) or mysql (MySQL 8, MariaDB 10.5 and later)
    host: db.internal           # host name or address of the server
    port: 5432                  # default 5432 for postgres, 3306 for mysql
    database: app               # the database minted logins connect to
    tls: require                # disable | require | verify-full (default: require)

    # The login jit uses to create and drop logins. It needs CREATEROLE and must be able to
    # grant what the roles below hand out; it does not need to be a superuser.
    admin:
      user: jit_admin
      # keychain (default; store it with: jit admin set prod-db)
      # env:NAME      read from an environment variable, e.g. env:JIT_PROD_ADMIN_PASSWORD
      # command:CMD   stdout of a command, e.g. command:op read op://ops/prod-db/password
      # A password written here is refused.
      password: keychain
      # The admin password goes only to a SCRAM request (scram-sha-256, the default). md5 or
      # password also answer MD5 or cleartext requests: only with tls: verify-full.
      # auth: scram-sha-256

    # Optional, postgres only: objects a login created are handed to this role on revoke
    # (REASSIGN OWNED) instead of being dropped with it.
    # owner: app_owner

    roles:
      readonly:
        ttl: 15m                # lifetime when --ttl is not given (default 15m, at least 5s)
        max_ttl: 1h             # most --ttl and 'jit extend' may ask for, counted from creation (default 1h)
        connection_limit: 5     # concurrent connections of one login (default 5)
        grants:
          # privileges: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER on tables;
          # USAGE, SELECT, UPDATE on sequences. Anything that escalates (ALL, CREATE, superuser,
          # pg_* roles, WITH GRANT OPTION, …) is refused. CONNECT is granted automatically.
          - privileges: [SELECT]
            tables: [public.orders, public.customers]   # schema.table; a bare name means public.

      support:
        max_ttl: 30m
        require_reason: true    # --reason TEXT is required and recorded in the audit trail
        grants:
          - privileges: [SELECT, UPDATE]
            tables: [public.tickets]
          - privileges: [SELECT]
            schema: reporting   # every table in the schema (use instead of wildcards)

      # A role may also join existing NOLOGIN group roles instead of (or besides) grants:
      # analyst:
      #   member_of: [analytics_ro]
`;
