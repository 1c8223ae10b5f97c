import { recreateTemplate } from "./databases";

export default async function globalSetup() {
  await recreateTemplate();
}
