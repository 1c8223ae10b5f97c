import { type LoaderFunctionArgs, redirect } from "@remix-run/node";
import { Form, Link, useLoaderData } from "@remix-run/react";
import { isDemoMode } from "~/demo-mode.server";
import styles from "./styles.module.css";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const url = new URL(request.url);
  // Shopify opens the app URL with ?shop=...: go straight to the app.
  if (url.searchParams.get("shop")) throw redirect(`/app?${url.searchParams.toString()}`);
  return { demo: isDemoMode() };
};

export default function Landing() {
  const { demo } = useLoaderData<typeof loader>();
  return (
    <div className={styles.landing}>
      <div className={styles.content}>
        <h1 className={styles.heading}>Tenure</h1>
        <p className={styles.text}>
          Every customer&apos;s lifetime value, churn odds and RFM segment, kept current from your store&apos;s orders.
        </p>
        {demo ? (
          <Link className={styles.button} to="/app">
            Open the demo shop
          </Link>
        ) : (
          <Form className={styles.form} method="post" action="/auth/login">
            <label className={styles.label}>
              <span>Shop domain</span>
              <input className={styles.input} type="text" name="shop" placeholder="my-shop.myshopify.com" />
            </label>
            <button className={styles.button} type="submit">
              Log in
            </button>
          </Form>
        )}
        <ul className={styles.list}>
          <li>
            <strong>Live from webhooks.</strong> Orders, refunds and customers arrive within seconds and nothing is lost.
          </li>
          <li>
            <strong>Predictions you can check.</strong> Published CLV models, backtested on your own history.
          </li>
          <li>
            <strong>Act on segments.</strong> Export, tag customers in Shopify, or start a Flow.
          </li>
        </ul>
      </div>
    </div>
  );
}
