// Placeholder until the database helpers land: nothing global to prepare yet.
export default async function globalSetup() {}
