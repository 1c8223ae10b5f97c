// Preloaded (node --import) into a server being CPU-profiled: remix-serve only closes its
// listener on SIGTERM and open database pools keep the process alive, but --cpu-prof writes
// its profile only on a normal exit. Exit shortly after the signal so the profile is kept.
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => setTimeout(() => process.exit(0), 300));
}
