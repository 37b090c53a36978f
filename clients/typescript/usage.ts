// What a front-end team writes against the generated types (`api.d.ts`, made by
// `npx openapi-typescript http://127.0.0.1:8000/api/schema/ -o api.d.ts`).
// make test regenerates api.d.ts from the live schema and runs `tsc --noEmit` on this file.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

export type Goods = Schemas["Goods"];
export type Order = Schemas["Order"];
export type OrderCreate = Json<paths["/api/orders/"]["post"]["requestBody"]>;
export type Login = Json<paths["/auth/jwt/create/"]["post"]["requestBody"]>;
export type Tokens = Json<paths["/auth/jwt/create/"]["post"]["responses"]["200"]>;
export type GoodsPage = Json<paths["/api/goods/"]["get"]["responses"]["200"]>;
export type Checkout = Json<paths["/api/cart/checkout/"]["post"]["requestBody"]>;
export type WebhookCreated = Json<paths["/api/webhooks/"]["post"]["responses"]["201"]>;
export type WebhookEvent = Schemas["WebhookEvent"];

// Request bodies are JSON only: there is no form content type to pick by mistake.
// @ts-expect-error multipart/form-data is not documented
export type NoForms = paths["/api/orders/"]["post"]["requestBody"]["content"]["multipart/form-data"];

const base = "http://127.0.0.1:8000";

async function post<B, R>(path: string, body: B, token?: string): Promise<R> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
  return (await response.json()) as R;
}

export async function buyCheapest(login: Login): Promise<string> {
  const tokens = await post<Login, Tokens>("/auth/jwt/create/", login);
  const page = (await (await fetch(`${base}/api/goods/?currency=EUR&ordering=price`)).json()) as GoodsPage;
  const first: Goods | undefined = page.results[0];
  if (!first || first.price === null) return "nothing to buy";
  const order: OrderCreate = {
    currency: "EUR",
    items: [{ goods: first.id, quantity: 2 }],
    max_order_sum: "1000.00",
  };
  const placed = await post<OrderCreate, Order>("/api/orders/", order, tokens.access);
  const lines: number = placed.items.length;
  const checkout: Checkout = { currency: "EUR" };
  void checkout;
  return `${placed.id}: ${placed.order_sum} ${placed.currency} (${lines} line)`;
}

export function describe(event: WebhookEvent): string {
  const kinds: WebhookEvent["type"][] = ["order.created", "prices.batch", "sale.started", "sale.ended", "rate.changed"];
  return kinds.includes(event.type) ? `${event.type} ${event.id} at ${event.created_at}` : "unknown";
}

export function secretOf(created: WebhookCreated): string {
  return created.secret;
}
