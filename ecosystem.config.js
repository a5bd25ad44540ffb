// PM2 process file (PM2 7 reads this ESM form: `export const apps`).
// One gateway process: it forks and supervises its own PTY workers, so PM2 must not cluster it.
const SHUTDOWN_TIMEOUT_MS = Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000);

export const apps = [
  {
    name: 'ccmanager',
    script: 'dist/gateway/main.js',
    cwd: import.meta.dirname,
    exec_mode: 'fork',
    instances: 1,
    // The gateway says process.send('ready') once the DB is open, workers are up and the port listens.
    wait_ready: true,
    listen_timeout: 20_000,
    // Longer than the gateway's own bounded shutdown, so PM2 never SIGKILLs it mid-flush.
    kill_timeout: SHUTDOWN_TIMEOUT_MS + 5_000,
    // PM2 must signal only the gateway: it closes sessions and workers itself, in order
    // (with treekill, PTYs and workers would die before their final screens are written).
    treekill: false,
    max_memory_restart: '1G',
    autorestart: true,
    min_uptime: 5_000,
    max_restarts: 10,
    out_file: 'logs/pm2-out.log',
    error_file: 'logs/pm2-error.log',
    merge_logs: true,
    time: true,
    env: { NODE_ENV: 'production' },
    env_development: { NODE_ENV: 'development' },
  },
];
