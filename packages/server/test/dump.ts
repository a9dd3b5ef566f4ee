import postgres from 'postgres'

/**
 * Every row of every table in the database (our schema and the job queue's), as JSON text: what
 * a leaked backup would show. Tests search it for secrets that must never be stored.
 */
export async function dumpDatabase(databaseURL: string): Promise<string> {
  const sql = postgres(databaseURL, { max: 1, onnotice: () => {} })
  try {
    const tables = await sql<{ schema: string; name: string }[]>`
      select table_schema as schema, table_name as name from information_schema.tables
      where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`
    const parts: string[] = []
    for (const table of tables) {
      const rows = await sql<
        { row: string }[]
      >`select to_jsonb(t)::text as row from ${sql(table.schema)}.${sql(table.name)} t`
      parts.push(...rows.map((row) => `${table.schema}.${table.name} ${row.row}`))
    }
    return parts.join('\n')
  } finally {
    await sql.end()
  }
}
