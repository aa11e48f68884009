//! Both backends behind one connection type, the pool, and the embedded migrations.

pub mod schema;

// The in-person hours of a period are grouped by trainee and by the session's module.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    schema::attendance_entries::trainee_id,
    schema::sessions::module_id,
);

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the advisory lock that serialises migrations of instances starting together.
const MIGRATION_LOCK: i64 = 0x7061_7263_6f75_7273;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// Runs one diesel expression on whichever backend `conn` holds, `c` bound to that backend's
/// own connection, for statements diesel types per backend (upserts):
/// `db::db_run!(conn, |c| insert_into(t).values(v).on_conflict_do_nothing().execute(c))?`.
/// Where the backends differ (a lock only PostgreSQL has), write the `match` and say why.
macro_rules! db_run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use db_run;

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            anyhow::ensure!(
                !path.is_empty() && !path.contains(":memory:"),
                "DATABASE_URL: a SQLite file is required"
            );
            Ok(Backend::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(url.to_string()))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://")
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// Opens connections of the configured backend, with SQLite's per-connection pragmas.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
}

// Memory-mapped reads: connections share the OS page cache instead of copying pages into
// each connection's own cache through read().
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
     PRAGMA synchronous = NORMAL;";

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.backend {
            Backend::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            Backend::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool. For SQLite the folder is created and WAL is set once, before pooling.
pub fn connect(database_url: &str, size: u32) -> anyhow::Result<(Pool, Backend)> {
    let backend = Backend::from_url(database_url)?;
    if let Backend::Sqlite(path) = &backend {
        prepare_sqlite_file(path)?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build(Manager {
            backend: backend.clone(),
        })
        .with_context(|| format!("database unreachable ({})", backend.name()))?;
    Ok((pool, backend))
}

fn prepare_sqlite_file(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("cannot open {}", path.display()))?;
    // Reading the schema catches a file that is not a database before anything else.
    // Waits for another instance that holds the lock (creating the file, or migrating):
    // switching to WAL can answer "locked" at once, without the busy timeout, so it is tried
    // again for as long.
    let setup = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; SELECT count(*) FROM sqlite_master;";
    let mut tries = 0;
    loop {
        match conn.batch_execute(setup) {
            Ok(()) => return Ok(()),
            Err(e) if tries < 100 && e.to_string().contains("locked") => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("{} is not a usable SQLite database", path.display())
                });
            }
        }
    }
}

/// Runs pending migrations; on PostgreSQL under an advisory lock so instances can start together.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        // The write lock first: instances started together migrate one after the other, and
        // the later ones find nothing pending.
        DbConn::Sqlite(c) => {
            type Tm = <SqliteConnection as Connection>::TransactionManager;
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            match c.run_pending_migrations(SQLITE_MIGRATIONS).map(names) {
                Ok(done) => Tm::commit_transaction(c).map(|()| done).map_err(Into::into),
                Err(e) => {
                    let _ = Tm::rollback_transaction(c);
                    Err(e)
                }
            }
        }
        DbConn::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let result = c.run_pending_migrations(PG_MIGRATIONS).map(names);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            result
        }
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Whether this binary knows migrations the database has not applied yet.
pub fn has_pending(conn: &mut DbConn) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.has_pending_migration(PG_MIGRATIONS),
    };
    pending.map_err(|e| anyhow::anyhow!("migrations: {e}"))
}

fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.into_iter().map(|v| v.to_string()).collect()
}

impl DbConn {
    pub fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DbConn::Sqlite(_))
    }
}

/// The one way to write: a transaction that takes SQLite's write lock up front
/// (`BEGIN IMMEDIATE`), so a read-then-write never fails on a lock upgrade. Nested, it is a
/// savepoint.
pub fn transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConn as Connection>::TransactionManager;
    // Inside another transaction the write lock is already held: a savepoint is enough.
    let outermost = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .ok()
            .flatten()
            .is_none(),
        DbConn::Pg(_) => false,
    };
    match conn {
        DbConn::Sqlite(c) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        _ => Tm::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => match Tm::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Tm::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            Tm::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Current time as stored: naive UTC, to the microsecond on both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}
