#!/usr/bin/env python3
"""Seeds the messy 27-table "omnix-ai" DynamoDB estate on a local server (moto) for dynamo-migrate's demo.

The estate is described table by table in docs/omnix-estate.md and consolidated by
mappings/omnix-ai-consolidation.yaml. Data is deterministic: the same --seed and --scale always
produce byte-identical items (all timestamps derive from the fixed AS_OF instant, never the clock).
Needs only boto3.
"""

import argparse
import calendar
import hashlib
import json
import os
import random
import sys
import time
from decimal import Context, Decimal

# Enough precision for DynamoDB's 38 significant digits (the default context rounds to 28).
DECIMAL = Context(prec=60)

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# The instant the estate is a snapshot of; every date is relative to it so runs are reproducible.
AS_OF = calendar.timegm((2024, 6, 1, 0, 0, 0))
DAY = 86400

# ---------------------------------------------------------------------------------------------------
# AttributeValue builders (low-level client format, so the exact wire types are under our control)


def S(x):
    return {"S": x}


def num_text(x):
    """DynamoDB's canonical number text: no exponent, no trailing zeros (DynamoDB normalises, moto does not)."""
    if isinstance(x, bool):
        raise TypeError("bool is not a number")
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        x = repr(x)          # never Decimal(float): that would keep the binary expansion
    d = Decimal(x).normalize(DECIMAL)
    text = format(d, "f")
    return "0" if text in ("-0", "") else text


def N(x):
    return {"N": num_text(x)}


def B(b):
    return {"B": bytes(b)}


def BOOL(v):
    return {"BOOL": bool(v)}


NULL = {"NULL": True}


def M(d):
    return {"M": dict(d)}


def L(items):
    return {"L": list(items)}


def SS(values):
    values = sorted(set(values))
    assert values, "a string set cannot be empty"
    return {"SS": values}


def NS(values):
    values = sorted(set(num_text(v) for v in values), key=Decimal)
    assert values, "a number set cannot be empty"
    return {"NS": values}


def BS(values):
    values = sorted(set(bytes(v) for v in values))
    assert values, "a binary set cannot be empty"
    return {"BS": values}


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def iso_date(epoch):
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def money_text(cents):
    """Price as the CDK stack stored it: a string with exactly two decimals, e.g. "12.50"."""
    return f"{cents // 100}.{cents % 100:02d}"


def money(cents):
    return Decimal(cents) / 100


# ---------------------------------------------------------------------------------------------------
# Shared entities: a user, product or order with index i looks the same in every table that holds a
# copy of it (that is what makes the keys overlap across dev, cdk and legacy tables).

FIRST_NAMES = [
    ("Amelia", "amelia"), ("José", "jose"), ("Zoë", "zoe"), ("Søren", "soren"), ("Łukasz", "lukasz"),
    ("Aiko", "aiko"), ("伟", "wei"), ("Анна", "anna"), ("Fatima", "fatima"), ("Chloé", "chloe"),
    ("Björn", "bjorn"), ("Priya", "priya"), ("Mateo", "mateo"), ("Noah", "noah"), ("Olivia", "olivia"),
    ("Şebnem", "sebnem"), ("Minh", "minh"), ("Kwame", "kwame"), ("Ingrid", "ingrid"), ("Dmitri", "dmitri"),
    ("محمد", "mohammed"), ("Ελένη", "eleni"), ("Jörg", "jorg"), ("Siobhán", "siobhan"), ("Grace", "grace"),
]
LAST_NAMES = [
    ("Smith", "smith"), ("Álvarez", "alvarez"), ("Ødegaard", "odegaard"), ("Nowak", "nowak"), ("Tanaka", "tanaka"),
    ("李", "li"), ("Петрова", "petrova"), ("Haddad", "haddad"), ("Dubois", "dubois"), ("Lindqvist", "lindqvist"),
    ("Sharma", "sharma"), ("García", "garcia"), ("O'Brien", "obrien"), ("Nguyễn", "nguyen"), ("Mensah", "mensah"),
    ("Müller", "muller"), ("Yılmaz", "yilmaz"), ("Κωνσταντίνου", "konstantinou"), ("Kowalski", "kowalski"),
    ("Johnson", "johnson"),
]
DOMAINS = ["example.com", "example.org", "mail.example.net", "omnix.example"]
LOCALES = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-ES", "pl-PL", "tr-TR"]
CITIES = [
    ("London", "GB", "EC1A 1BB"), ("Berlin", "DE", "10115"), ("Paris", "FR", "75001"), ("Tokyo", "JP", "100-0001"),
    ("São Paulo", "BR", "01000-000"), ("Kraków", "PL", "30-001"), ("Seattle", "US", "98101"), ("İstanbul", "TR", "34000"),
]
STREETS = ["High Street", "Hauptstraße", "Rue de Rivoli", "Main St", "Ulica Długa", "Avenida Paulista", "Baker Street"]
WAREHOUSES = ["wh-lhr-1", "wh-fra-1", "wh-iad-1", "wh-nrt-1"]
CATEGORIES = ["kitchen", "apparel", "electronics", "garden", "books", "toys", "beauty"]
ADJECTIVES = ["Classic", "Café", "Ultra", "Eco", "Nordic", "Deluxe", "Mini", "Größe-L", "Vintage", "Smart", "☕ Barista"]
NOUNS = {
    "kitchen": ["Mug", "Kettle", "Knife Set", "Espresso Cup", "Pan"],
    "apparel": ["Hoodie", "T-Shirt", "Scarf", "Sneakers", "Cap"],
    "electronics": ["Headphones", "Charger", "Speaker", "Smartwatch", "Webcam"],
    "garden": ["Planter", "Hose", "Shears", "Bird Feeder", "Lantern"],
    "books": ["Notebook", "Cookbook", "Atlas", "Novel", "Sketchbook"],
    "toys": ["Puzzle", "Robot Kit", "Plush Bear", "Kite", "Blocks"],
    "beauty": ["Serum", "Soap Bar", "Face Mask", "Hand Cream", "Perfume"],
}
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
         "et dolore magna aliqua durable ergonomic recyclable handmade café naïve résumé ünïcödé 日本語 テキスト").split()
ORDER_STATUSES = ["pending", "paid", "shipped", "delivered", "delivered", "delivered", "cancelled", "refunded"]
METRICS = ["page_views", "orders_placed", "revenue", "active_users", "conversion_rate"]
USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
    "OmnixApp/3.2.1 (iPhone; iOS 17.4)",
    "OmnixApp/3.1.0 (Android 14; Pixel 8)",
]


class Estate:
    """Deterministic generator for every entity and table of the estate."""

    def __init__(self, seed, scale):
        self.seed = seed
        self.scale = scale

    # -- determinism helpers
    def rng(self, *parts):
        # random.Random seeded with a str hashes it with SHA-512: stable across runs and Python versions.
        return random.Random(":".join(str(p) for p in (self.seed,) + parts))

    def ident(self, kind, i, length=12):
        return hashlib.sha256(f"{self.seed}:{kind}:{i}".encode()).hexdigest()[:length]

    def count(self, n):
        """Item count at the current scale (never below 1, so every table keeps at least one item)."""
        return max(1, int(n * self.scale + 0.5))

    def span(self, start, n):
        """Indices start..start+n of a shared pool, both scaled, so overlaps keep their proportion."""
        first = int(start * self.scale + 0.5)
        return range(first, first + self.count(n))

    # -- shared entities
    def user(self, i):
        r = self.rng("user", i)
        first, first_ascii = r.choice(FIRST_NAMES)
        last, last_ascii = r.choice(LAST_NAMES)
        created = AS_OF - r.randrange(30 * DAY, 3 * 365 * DAY)
        roles = ["customer"] + (["beta-tester"] if r.random() < 0.2 else []) + (["admin"] if r.random() < 0.05 else [])
        return {
            "id": "usr_" + self.ident("user", i),
            "first": first, "last": last,
            "email": f"{first_ascii}.{last_ascii}{i}@{r.choice(DOMAINS)}",
            "created": created,
            "lastLogin": min(AS_OF - 60, created + r.randrange(DAY, 900 * DAY)),
            "status": r.choices(["active", "suspended", "deleted"], [90, 7, 3])[0],
            "roles": roles,
            "locale": r.choice(LOCALES),
            "marketing": r.random() < 0.4,
            "theme": r.choice(["light", "dark", "system"]),
            "currency": r.choice(["USD", "EUR", "GBP", "JPY"]),
            "notifyEmail": r.random() < 0.7, "notifySms": r.random() < 0.2,
            "phone": f"+{r.choice(['1', '44', '49', '33', '81'])}{r.randrange(10**9, 10**10)}",
            "dob": iso_date(AS_OF - r.randrange(18 * 365 * DAY, 80 * 365 * DAY)),
            "interests": r.sample(CATEGORIES, r.randint(1, 3)),
            "loyaltyPoints": r.randrange(0, 25000),
            "city": r.choice(CITIES), "street": r.choice(STREETS), "houseNo": r.randint(1, 250),
        }

    def user_preferences(self, u):
        return M({
            "theme": S(u["theme"]),
            "currency": S(u["currency"]),
            "notifications": M({"email": BOOL(u["notifyEmail"]), "sms": BOOL(u["notifySms"])}),
        })

    def address(self, u, r):
        city, country, postcode = u["city"]
        return M({
            "line1": S(f"{u['houseNo']} {u['street']}"),
            "line2": S(f"Flat {r.randint(1, 40)}") if r.random() < 0.3 else NULL,
            "city": S(city), "postcode": S(postcode), "country": S(country),
        })

    def product(self, i):
        r = self.rng("product", i)
        category = r.choice(CATEGORIES)
        name = f"{r.choice(ADJECTIVES)} {r.choice(NOUNS[category])}"
        words = 2650 if i == 0 else r.randint(12, 40)  # product 0 carries a ~20 KB description
        desc = " ".join(r.choice(WORDS) for _ in range(words)).capitalize() + "."
        extra_tags = r.sample(["gift", "sale", "new", "bestseller", "eco", "limited"], r.randint(0, 2))
        return {
            "id": "prd_" + self.ident("product", i),
            "name": name, "description": desc, "category": category,
            "priceCents": r.randrange(199, 25000),
            "currency": "USD",
            "tags": [category] + extra_tags,
            "active": r.random() < 0.9,
            "created": AS_OF - r.randrange(10 * DAY, 4 * 365 * DAY),
            "weightGrams": r.randrange(20, 5000),
            "size": r.choice(["S", "M", "L", "XL", "one-size"]),
            "thumbnail": b"\x89PNG\r\n\x1a\n" + r.randbytes(r.randint(48, 120)),
            "imageHashes": [r.randbytes(16) for _ in range(r.randint(1, 3))],
            "i18n": {"fr": f"{name} (fr)", "ja": f"{name}・日本", "de": f"{name} (de)"},
            "dimensions": (r.randint(5, 60), r.randint(5, 60), r.randint(1, 40)),
        }

    def order(self, i, users, products):
        r = self.rng("order", i)
        uidx = r.choice(users)
        u = self.user(uidx)
        created = AS_OF - r.randrange(DAY, 540 * DAY)
        lines = []
        for pidx in r.sample(products, r.randint(1, 4)):
            p = self.product(pidx)
            lines.append({"productId": p["id"], "quantity": r.randint(1, 5), "unitCents": p["priceCents"]})
        total = sum(line["quantity"] * line["unitCents"] for line in lines)
        return {
            "id": "ord_" + self.ident("order", i),
            "user": u, "created": created,
            "status": r.choice(ORDER_STATUSES),
            "currency": u["currency"] if u["currency"] != "JPY" else "USD",
            "lines": lines, "totalCents": total,
            "address": self.address(u, r),
            "giftWrap": r.random() < 0.1,
            "payment": r.choice(["card", "paypal", "apple-pay", "invoice"]),
            "coupon": r.choice(["SPRING24", "WELCOME10", "VIP"]) if r.random() < 0.15 else None,
        }

    @staticmethod
    def line_items(o):
        return L(M({"productId": S(x["productId"]), "quantity": N(x["quantity"]),
                    "unitPrice": N(money(x["unitCents"]))}) for x in o["lines"])


# ---------------------------------------------------------------------------------------------------
# Table specifications


class Table:
    def __init__(self, name, hash_key, range_key=None, billing="PAY_PER_REQUEST", rcu=5, wcu=5, gsis=(),
                 lsis=(), ttl=None, tags=None, stream=None, pitr=False, deletion_protection=False, sse=False,
                 table_class=None):
        self.name = name
        self.hash_key = hash_key      # (name, type)
        self.range_key = range_key
        self.billing = billing
        self.rcu, self.wcu = rcu, wcu
        self.gsis = list(gsis)        # (name, hash, range|None, projection, non-key attrs)
        self.lsis = list(lsis)        # (name, range, projection)
        self.ttl = ttl
        self.tags = tags or {}
        self.stream = stream
        self.pitr = pitr
        self.deletion_protection = deletion_protection
        self.sse = sse
        self.table_class = table_class
        self.items = []

    def key_of(self, item):
        names = [self.hash_key[0]] + ([self.range_key[0]] if self.range_key else [])
        return tuple(json.dumps(item[n], sort_keys=True, default=lambda b: b.hex()) for n in names)

    def key_text(self):
        text = f"{self.hash_key[0]} ({self.hash_key[1]})"
        if self.range_key:
            text += f" + {self.range_key[0]} ({self.range_key[1]})"
        return text

    def create_request(self):
        definitions = {self.hash_key[0]: self.hash_key[1]}
        key_schema = [{"AttributeName": self.hash_key[0], "KeyType": "HASH"}]
        if self.range_key:
            definitions[self.range_key[0]] = self.range_key[1]
            key_schema.append({"AttributeName": self.range_key[0], "KeyType": "RANGE"})
        throughput = {"ReadCapacityUnits": self.rcu, "WriteCapacityUnits": self.wcu}
        req = {"TableName": self.name, "KeySchema": key_schema, "BillingMode": self.billing}
        if self.billing == "PROVISIONED":
            req["ProvisionedThroughput"] = throughput

        def projection(kind, non_key):
            p = {"ProjectionType": kind}
            if kind == "INCLUDE":
                p["NonKeyAttributes"] = list(non_key)
            return p

        gsis = []
        for name, h, rng_key, kind, non_key in self.gsis:
            schema = [{"AttributeName": h[0], "KeyType": "HASH"}]
            definitions[h[0]] = h[1]
            if rng_key:
                schema.append({"AttributeName": rng_key[0], "KeyType": "RANGE"})
                definitions[rng_key[0]] = rng_key[1]
            gsi = {"IndexName": name, "KeySchema": schema, "Projection": projection(kind, non_key)}
            if self.billing == "PROVISIONED":
                gsi["ProvisionedThroughput"] = throughput
            gsis.append(gsi)
        if gsis:
            req["GlobalSecondaryIndexes"] = gsis
        lsis = []
        for name, rng_key, kind in self.lsis:
            definitions[rng_key[0]] = rng_key[1]
            lsis.append({"IndexName": name, "Projection": projection(kind, ()),
                         "KeySchema": [{"AttributeName": self.hash_key[0], "KeyType": "HASH"},
                                       {"AttributeName": rng_key[0], "KeyType": "RANGE"}]})
        if lsis:
            req["LocalSecondaryIndexes"] = lsis
        req["AttributeDefinitions"] = [{"AttributeName": k, "AttributeType": t} for k, t in definitions.items()]
        if self.stream:
            req["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream}
        if self.sse:
            req["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if self.tags:
            req["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        if self.deletion_protection:
            req["DeletionProtectionEnabled"] = True
        if self.table_class:
            req["TableClass"] = self.table_class
        return req


CDK_TAGS = {"app": "omnix-ai", "stack": "OmnixAiCdkStack", "managed-by": "cdk"}
DEV_TAGS = {"app": "omnix-ai", "env": "dev", "owner": "platform"}


def build_estate(e):
    """Returns the 27 tables, with their items, in creation order."""
    tables = []

    def table(*args, **kwargs):
        t = Table(*args, **kwargs)
        tables.append(t)
        return t

    # Shared index ranges (at scale 1): users 0..259, products 0..149, orders 0..299 + legacy v1 orders.
    dev_users = e.span(0, 150)
    cdk_users = e.span(100, 120)                      # 100..149 overlap omnix-ai-dev-users
    legacy_users = list(e.span(0, 40)) + list(e.span(220, 40))   # 0..39 overlap dev; 220..259 only here
    all_users = sorted(set(dev_users) | set(cdk_users) | set(legacy_users))
    cdk_products = e.span(0, 120)
    legacy_products = e.span(90, 60)                  # 90..119 overlap omnix-ai-cdk-products
    all_products = sorted(set(cdk_products) | set(legacy_products))
    dev_orders = e.span(0, 180)
    cdk_orders = e.span(140, 150)                     # 140..179 overlap omnix-ai-dev-orders

    # 1 ---------------------------------------------------------------- omnix-ai-dev-users
    t = table("omnix-ai-dev-users", ("userId", "S"), billing="PROVISIONED", rcu=5, wcu=5,
              gsis=[("byEmail", ("email", "S"), None, "ALL", ())], tags=DEV_TAGS, pitr=True)
    for i in dev_users:
        u = e.user(i)
        t.items.append({
            "userId": S(u["id"]), "email": S(u["email"]), "name": S(f"{u['first']} {u['last']}"),
            "createdAt": S(iso(u["created"])), "lastLoginAt": S(iso(u["lastLogin"])),
            "status": S(u["status"]), "roles": SS(u["roles"]), "locale": S(u["locale"]),
            "marketingOptIn": BOOL(u["marketing"]), "preferences": e.user_preferences(u),
        })

    # 2 ---------------------------------------------------------------- omnix-ai-dev-orders
    t = table("omnix-ai-dev-orders", ("orderId", "S"), billing="PROVISIONED", rcu=10, wcu=10,
              gsis=[("byUser", ("userId", "S"), ("createdAt", "S"), "ALL", ())], tags=DEV_TAGS,
              stream="NEW_AND_OLD_IMAGES", pitr=True)
    order_users = list(dev_users)
    for i in dev_orders:
        o = e.order(i, order_users, all_products)
        item = {
            "orderId": S(o["id"]), "userId": S(o["user"]["id"]), "createdAt": S(iso(o["created"])),
            "status": S(o["status"]), "currency": S(o["currency"]), "total": N(money(o["totalCents"])),
            "items": e.line_items(o), "shippingAddress": o["address"], "giftWrap": BOOL(o["giftWrap"]),
            "paymentMethod": S(o["payment"]),
        }
        if o["coupon"]:
            item["couponCode"] = S(o["coupon"])
        t.items.append(item)
    dev_order_items = list(t.items)

    # 3 ---------------------------------------------------------------- omnix-ai-dev-inventory
    t = table("omnix-ai-dev-inventory", ("productId", "S"), ("warehouseId", "S"), billing="PROVISIONED",
              rcu=5, wcu=5, gsis=[("byWarehouse", ("warehouseId", "S"), ("productId", "S"), "KEYS_ONLY", ())],
              tags=DEV_TAGS)
    for i in e.span(0, 60):
        p = e.product(i)
        for w in WAREHOUSES[:2]:
            r = e.rng("dev-inventory", i, w)
            t.items.append({
                "productId": S(p["id"]), "warehouseId": S(w), "quantity": N(r.randrange(0, 500)),
                "reserved": N(r.randrange(0, 20)), "reorderLevel": N(r.choice([10, 25, 50])),
                "updatedAt": S(iso(AS_OF - r.randrange(60, 30 * DAY))),
                "binNumbers": NS(r.sample(range(1, 400), r.randint(1, 3))),
            })

    # 4 ---------------------------------------------------------------- omnix-ai-dev-sessions
    t = table("omnix-ai-dev-sessions", ("sessionId", "S"), ttl="expiresAt", tags=DEV_TAGS,
              gsis=[("byUser", ("userId", "S"), None, "INCLUDE", ("createdAt", "expiresAt"))])
    for i in e.span(0, 120):
        r = e.rng("dev-session", i)
        u = e.user(r.choice(dev_users))
        created = AS_OF - r.randrange(60, 6 * 3600)
        t.items.append({
            "sessionId": S("ses_" + e.ident("dev-session", i, 24)), "userId": S(u["id"]),
            "createdAt": S(iso(created)), "expiresAt": N(created + 12 * 3600),
            "ipAddress": S(f"203.0.113.{r.randint(1, 254)}"), "userAgent": S(r.choice(USER_AGENTS)),
            "csrfToken": B(r.randbytes(32)), "mfa": BOOL(r.random() < 0.3), "status": S("active"),
            "data": M({"lastPage": S(r.choice(["/", "/cart", "/checkout", "/account", "/p/" + e.ident("product", 3)])),
                       "cartItems": L(S(e.product(r.choice(all_products))["id"]) for _ in range(r.randint(0, 3)))}),
        })

    # 5 ---------------------------------------------------------------- omnix-ai-cdk-users
    t = table("omnix-ai-cdk-users", ("user_id", "S"), tags=CDK_TAGS,
              gsis=[("EmailAddressIndex", ("EmailAddress", "S"), None, "ALL", ())])
    for i in cdk_users:
        u = e.user(i)
        r = e.rng("cdk-user", i)
        # The CDK import kept the address as typed at sign-up: mixed or upper case.
        email = u["email"].upper() if r.random() < 0.3 else u["email"].title()
        status = u["status"] if r.random() < 0.8 else "active"   # stale copy: misses later suspensions
        t.items.append({
            "user_id": S(u["id"]), "EmailAddress": S(email), "full_name": S(f"{u['first']} {u['last']}"),
            "created_at": N(u["created"]), "status": S(status), "roles": S(",".join(u["roles"])),
            "locale": S(u["locale"]), "marketingOptIn": BOOL(u["marketing"]),
            "preferences": e.user_preferences(u), "cdkSyncVersion": N(r.randint(1, 9)),
        })

    # 6 ---------------------------------------------------------------- omnix-ai-cdk-orders
    t = table("omnix-ai-cdk-orders", ("user_id", "S"), ("order_id", "S"), tags=CDK_TAGS, stream="NEW_IMAGE")
    for i in cdk_orders:
        o = e.order(i, order_users, all_products)
        r = e.rng("cdk-order", i)
        status = o["status"] if r.random() < 0.85 else "pending"   # stale status on some copies
        t.items.append({
            "user_id": S(o["user"]["id"]), "order_id": S(o["id"]), "placed_at": N(o["created"]),
            "order_status": S(status.upper()), "currency": S(o["currency"]),
            "order_total": S(money_text(o["totalCents"])), "line_items": e.line_items(o),
            "shipping_address": o["address"], "gift_wrap": BOOL(o["giftWrap"]),
            "paymentMethod": S(o["payment"]), "cdkSyncVersion": N(r.randint(1, 9)),
            **({"couponCode": S(o["coupon"])} if o["coupon"] else {}),
        })

    # 7 ---------------------------------------------------------------- omnix-ai-cdk-products
    t = table("omnix-ai-cdk-products", ("productId", "S"), tags=CDK_TAGS,
              gsis=[("byCategory", ("category", "S"), None, "ALL", ())])
    for i in cdk_products:
        p = e.product(i)
        w, h, d = p["dimensions"]
        t.items.append({
            "productId": S(p["id"]), "name": S(p["name"]), "description": S(p["description"]),
            "category": S(p["category"]), "price": S(money_text(p["priceCents"])), "currency": S(p["currency"]),
            "tags": S(",".join(p["tags"])), "active": BOOL(p["active"]), "createdAt": S(iso(p["created"])),
            "size": S(p["size"]), "weightGrams": N(p["weightGrams"]), "thumbnail": B(p["thumbnail"]),
            "imageHashes": BS(p["imageHashes"]),
            "attributes": M({"nameI18n": M({k: S(v) for k, v in p["i18n"].items()}),
                             "dimensionsCm": M({"width": N(w), "height": N(h), "depth": N(d)})}),
        })

    # 8 ---------------------------------------------------------------- omnix-ai-cdk-inventory
    t = table("omnix-ai-cdk-inventory", ("sku", "S"), ("location", "S"), tags=CDK_TAGS)
    for i in e.span(40, 50):                          # products 40..59 overlap omnix-ai-dev-inventory
        p = e.product(i)
        for w in WAREHOUSES[:2]:
            r = e.rng("cdk-inventory", i, w)
            t.items.append({
                "sku": S(p["id"]), "location": S(w.upper()), "qty": S(str(r.randrange(0, 500))),
                "reserved_qty": S(str(r.randrange(0, 20))), "reorderLevel": N(r.choice([10, 25, 50])),
                "last_updated": N(AS_OF - r.randrange(30 * DAY, 90 * DAY)),
                "binNumbers": NS(r.sample(range(1, 400), r.randint(1, 3))),
            })

    # 9 ---------------------------------------------------------------- omnix-ai-cdk-sessions
    t = table("omnix-ai-cdk-sessions", ("session_id", "S"), ttl="ttl", tags=CDK_TAGS)
    for i in e.span(0, 80):
        r = e.rng("cdk-session", i)
        u = e.user(r.choice(cdk_users))
        created = AS_OF - r.randrange(60, 2 * DAY)
        status = r.choices(["active", "revoked", "expired"], [60, 15, 25])[0]
        t.items.append({
            "session_id": S("ses_" + e.ident("cdk-session", i, 24)), "user_id": S(u["id"]),
            "created": N(created), "ttl": N(created + (12 * 3600 if status != "active" else 2 * DAY)),
            "ip": S(f"198.51.100.{r.randint(1, 254)}"), "ua": S(r.choice(USER_AGENTS)),
            "csrfToken": B(r.randbytes(32)), "mfa": BOOL(r.random() < 0.3), "status": S(status),
            "data": M({"lastPage": S(r.choice(["/", "/cart", "/search?q=caf%C3%A9"])), "cartItems": L([])}),
        })

    # 10 ---------------------------------------------------------------- omnix-ai-cdk-customer-profiles
    t = table("omnix-ai-cdk-customer-profiles", ("customerId", "S"), tags=CDK_TAGS)
    cdk_profile_users = cdk_users
    for n, i in enumerate(cdk_profile_users):
        u = e.user(i)
        r = e.rng("cdk-profile", i)
        item = {
            "customerId": S(u["id"]), "firstName": S(u["first"]), "lastName": S(u["last"]),
            "dateOfBirth": S(u["dob"]), "phoneNumbers": SS([u["phone"]]), "address": e.address(u, r),
            "loyaltyTier": S(["bronze", "silver", "gold", "platinum"][min(3, u["loyaltyPoints"] // 6000)]),
            "loyaltyPoints": N(u["loyaltyPoints"]), "interests": S(",".join(u["interests"])),
            "marketingConsents": M({"email": BOOL(u["marketing"]), "sms": BOOL(u["notifySms"]),
                                    "updatedAt": S(iso(u["created"] + DAY))}),
            "updatedAt": N(AS_OF - r.randrange(DAY, 200 * DAY)),
        }
        if n == 0:   # one long-standing customer with a ~20 KB support history
            item["supportHistory"] = L(M({
                "ticketId": S(f"T-{100000 + k}"), "openedAt": S(iso(u["created"] + k * 7 * DAY)),
                "channel": S(r.choice(["email", "chat", "phone"])), "resolved": BOOL(k < 98),
                "summary": S(" ".join(r.choice(WORDS) for _ in range(16))),
            }) for k in range(100))
        t.items.append(item)

    # 11 ---------------------------------------------------------------- omnix-ai-cdk-recommendations
    t = table("omnix-ai-cdk-recommendations", ("userId", "S"), ("productId", "S"), tags=CDK_TAGS)
    rec_users = list(e.span(0, 30))
    seen = set()
    for i in range(e.count(150)):
        r = e.rng("recommendation", i)
        uidx = rec_users[i % len(rec_users)]
        free = [p for p in all_products if (uidx, p) not in seen]
        if not free:         # only at tiny scales: this user already has every product
            continue
        pidx = r.choice(free)
        seen.add((uidx, pidx))
        t.items.append({
            "userId": S(e.user(uidx)["id"]), "productId": S(e.product(pidx)["id"]),
            "score": N(Decimal(r.randrange(1, 10000)) / 10000), "rank": N(i // len(rec_users) + 1),
            "model": S(r.choice(["als-v3", "two-tower-v1"])), "generatedAt": S(iso(AS_OF - r.randrange(DAY, 3 * DAY))),
            "reasons": L(S(x) for x in r.sample(["viewed-similar", "bought-together", "trending", "category-affinity"], 2)),
        })

    # 12 ---------------------------------------------------------------- omnix-ai-cdk-analytics
    t = table("omnix-ai-cdk-analytics", ("metric", "S"), ("bucket", "S"), tags=CDK_TAGS)
    hours = e.count(24)
    for m in METRICS:
        for h in range(hours):
            r = e.rng("cdk-analytics", m, h)
            value = {"page_views": r.randrange(1000, 90000), "orders_placed": r.randrange(10, 900),
                     "revenue": money(r.randrange(10000, 9000000)), "active_users": r.randrange(100, 9000),
                     "conversion_rate": Decimal(r.randrange(50, 900)) / 10000}[m]
            t.items.append({
                "metric": S(m), "bucket": S(iso(AS_OF - (h + 1) * 3600)), "value": N(value),
                "granularity": S("hourly"),
                "dimensions": M({"region": S(r.choice(["eu-west-1", "us-east-1"])), "channel": S(r.choice(["web", "app"]))}),
                "samples": NS(r.sample(range(0, 5000), 5)),
            })
    # A lifetime counter beyond 2^53: survives only if numbers are never passed through a double.
    t.items.append({"metric": S("lifetime_events"), "bucket": S(iso(AS_OF)), "value": N(9007199254740993),
                    "granularity": S("lifetime"), "dimensions": M({}), "samples": NS(["-1.5", "0", "0.0000001"])})

    # 13 ---------------------------------------------------------------- omnix-ai-cdk-carts
    t = table("omnix-ai-cdk-carts", ("cartId", "S"), ttl="expiresAt", tags=CDK_TAGS)
    for i in e.span(0, 40):
        r = e.rng("cart", i)
        updated = AS_OF - r.randrange(DAY, 120 * DAY)
        t.items.append({
            "cartId": S("crt_" + e.ident("cart", i)), "userId": S(e.user(r.choice(cdk_users))["id"]),
            "items": L(M({"productId": S(e.product(r.choice(all_products))["id"]), "quantity": N(r.randint(1, 3))})
                       for _ in range(r.randint(1, 4))),
            "updatedAt": N(updated), "expiresAt": N(updated + 30 * DAY), "abandoned": BOOL(True),
        })

    # 14 ---------------------------------------------------------------- omnix-ai-cdk-feature-flags
    t = table("omnix-ai-cdk-feature-flags", ("flag", "S"), tags=CDK_TAGS)
    flags = ["new-checkout", "reco-two-tower", "dark-mode", "one-click-buy", "gift-wrap", "loyalty-v2", "search-v3",
             "pwa-install", "price-alerts", "chat-support", "wishlist-share", "ar-preview", "bnpl", "multi-currency",
             "referrals"]
    for i in range(min(len(flags), e.count(15))):
        r = e.rng("flag", i)
        t.items.append({
            "flag": S(flags[i]), "enabled": BOOL(r.random() < 0.5), "rolloutPercent": N(r.choice([0, 5, 25, 50, 100])),
            "segments": SS(r.sample(["beta-tester", "staff", "eu", "us", "vip"], 2)),
            "config": M({"variant": S(r.choice(["a", "b"])), "limits": L([N(r.randint(1, 10)), N(r.randint(10, 100))])}),
            "description": NULL if r.random() < 0.4 else S(f"Flag for {flags[i].replace('-', ' ')}"),
        })

    # 15 ---------------------------------------------------------------- omnix-ai-cdk-import-checkpoints
    t = table("omnix-ai-cdk-import-checkpoints", ("jobId", "S"), ("segment", "N"), tags=CDK_TAGS)
    for i in range(e.count(10)):
        r = e.rng("checkpoint", i)
        t.items.append({
            "jobId": S("import-users-2024-02-11"), "segment": N(i),
            "lastEvaluatedKey": M({"UserId": S(e.user(r.randrange(0, 260))["id"])}) if i % 3 else NULL,
            "status": S("FAILED" if i == 7 else "DONE"), "itemsCopied": N(r.randrange(0, 400)),
            "updatedAt": S(iso(AS_OF - 110 * DAY + i * 60)),
        })

    # 16 ---------------------------------------------------------------- omnix-users (legacy)
    t = table("omnix-users", ("Email", "S"), billing="PROVISIONED", rcu=2, wcu=1,
              tags={"owner": "legacy-monolith", "cost-center": "1042"}, deletion_protection=True)
    for i in legacy_users:
        u = e.user(i)
        r = e.rng("legacy-user", i)
        t.items.append({
            "Email": S(u["email"].upper()), "UserId": S(u["id"]), "FullName": S(f"{u['first']} {u['last']}"),
            "SignupDate": N(u["created"] * 1000), "AccountStatus": S(u["status"].upper()),
            "Roles": SS(u["roles"]), "Locale": S(u["locale"]), "MarketingOptIn": BOOL(u["marketing"]),
            "PasswordHash": B(hashlib.sha256(f"{e.seed}:pw:{i}".encode()).digest()),
            "LegacyFlags": NS([r.randint(0, 7), 8]),
        })

    # 17 ---------------------------------------------------------------- omnix-orders-v1 (legacy)
    t = table("omnix-orders-v1", ("OrderId", "N"), billing="PROVISIONED", rcu=5, wcu=2,
              gsis=[("UserIdIndex", ("UserId", "S"), None, "ALL", ())], tags={"owner": "legacy-monolith"})
    for i in range(e.count(100)):
        r = e.rng("order-v1", i)
        u = e.user(r.choice(legacy_users))
        created = AS_OF - r.randrange(400 * DAY, 5 * 365 * DAY)
        lines = []
        for pidx in r.sample(all_products, r.randint(1, 3)):
            p = e.product(pidx)
            lines.append(M({"productId": S(p["id"]), "quantity": N(r.randint(1, 4)), "unitPrice": N(money(p["priceCents"]))}))
        total = sum(Decimal(x["M"]["quantity"]["N"]) * Decimal(x["M"]["unitPrice"]["N"]) for x in lines)
        t.items.append({
            "OrderId": N(100001 + i), "UserId": S(u["id"]), "OrderDate": N(created * 1000),
            "Status": S(r.choice(["Delivered", "Delivered", "Cancelled", "Refunded"])), "Amount": N(total),
            "Lines": L(lines), "ShippingAddress": e.address(u, r), "GiftWrap": BOOL(False),
        })

    # 18 ---------------------------------------------------------------- OmnixCustomerProfiles (legacy)
    t = table("OmnixCustomerProfiles", ("CustomerID", "S"), billing="PROVISIONED", rcu=3, wcu=3,
              gsis=[("EmailIndex", ("EmailAddr", "S"), None, "KEYS_ONLY", ())], sse=True,
              tags={"owner": "crm-team", "data-class": "pii"})
    for i in e.span(80, 60):                          # 100..139 overlap omnix-ai-cdk-customer-profiles
        u = e.user(i)
        r = e.rng("legacy-profile", i)
        t.items.append({
            "CustomerID": S(u["id"]), "FirstName": S(u["first"]), "LastName": S(u["last"]),
            "EmailAddr": S(u["email"].upper()), "DOB": S(u["dob"]), "Phones": SS([u["phone"]]),
            "Address": e.address(u, r), "Tier": S(["BRONZE", "SILVER", "GOLD", "PLATINUM"][min(3, u["loyaltyPoints"] // 6000)]),
            "Points": S(str(u["loyaltyPoints"])), "Interests": SS(u["interests"]),
            "LastModified": N(AS_OF - r.randrange(300 * DAY, 700 * DAY)),
            "FaxNumber": NULL,
        })

    # 19 ---------------------------------------------------------------- OmnixProductCatalog (legacy)
    t = table("OmnixProductCatalog", ("ProductId", "S"), billing="PROVISIONED", rcu=5, wcu=1,
              tags={"owner": "legacy-monolith"})
    for i in legacy_products:
        p = e.product(i)
        w, h, d = p["dimensions"]
        t.items.append({
            "ProductId": S(p["id"]), "Title": S(p["name"]), "Description": S(p["description"]),
            "Category": S(p["category"].title()), "Price": N(money(p["priceCents"])), "Currency": S(p["currency"]),
            "Keywords": SS(p["tags"]), "IsActive": BOOL(p["active"]), "CreatedAt": N(p["created"]),
            "Größe": S(p["size"]), "WeightGrams": N(p["weightGrams"]),
            "attributes": M({"nameI18n": M({k: S(v) for k, v in p["i18n"].items()}),
                             "dimensionsCm": M({"width": N(w), "height": N(h), "depth": N(d)})}),
        })

    # 20 ---------------------------------------------------------------- omnix_recommendations_cache
    t = table("omnix_recommendations_cache", ("user_id", "S"), ("rank", "N"), ttl="expires_at",
              lsis=[("byScore", ("score", "N"), "ALL")], tags={"owner": "ml-team"})
    for i in range(e.count(60)):
        r = e.rng("reco-cache", i)
        t.items.append({
            "user_id": S(e.user(i // 5)["id"]), "rank": N(i % 5 + 1),
            "product_id": S(e.product(r.choice(all_products))["id"]), "score": N(Decimal(r.randrange(1, 1000)) / 1000),
            "model": S("als-v2"), "expires_at": N(AS_OF - 200 * DAY + r.randrange(0, DAY)),
        })

    # 21 ---------------------------------------------------------------- omnix-ai-analytics-daily
    t = table("omnix-ai-analytics-daily", ("date", "S"), ("metric_name", "S"), billing="PROVISIONED", rcu=1, wcu=1,
              tags={"owner": "data-team"})
    for dnum in range(e.count(12)):
        day = iso_date(AS_OF - (dnum + 2) * DAY)
        for m in METRICS:
            r = e.rng("daily", day, m)
            value = {"page_views": r.randrange(20000, 2000000), "orders_placed": r.randrange(200, 20000),
                     "revenue": money(r.randrange(100000, 90000000)), "active_users": r.randrange(1000, 90000),
                     "conversion_rate": Decimal(r.randrange(50, 900)) / 10000}[m]
            t.items.append({
                "date": S(day), "metric_name": S(m), "value": S(num_text(value)),
                "breakdown": M({"region": S("all"), "channel": S("all")}),
                "computedBy": S("airflow:daily_rollup"),
            })

    # 22 ---------------------------------------------------------------- omnix-clickstream-raw
    t = table("omnix-clickstream-raw", ("shard", "N"), ("eventId", "B"), tags={"owner": "data-team"})
    for i in range(e.count(80)):
        r = e.rng("click", i)
        t.items.append({
            "shard": N(i % 8), "eventId": B(r.randbytes(16)), "type": S(r.choice(["view", "click", "add_to_cart"])),
            "path": S(r.choice(["/", "/p/" + e.product(r.choice(all_products))["id"], "/search?q=größe"])),
            "ts": N((AS_OF - r.randrange(0, 90 * DAY)) * 1000 + r.randrange(0, 1000)),
            "userId": S(e.user(r.choice(all_users))["id"]) if r.random() < 0.7 else NULL,
            "props": M({"referrer": S(r.choice(["google", "newsletter", "direct"])), "viewport": L([N(390), N(844)])}),
        })

    # 23 ---------------------------------------------------------------- omnix-ai-dev-orders-backup-2024-03-15
    t = table("omnix-ai-dev-orders-backup-2024-03-15", ("orderId", "S"),
              table_class="STANDARD_INFREQUENT_ACCESS", tags={"backup-of": "omnix-ai-dev-orders", "created-by": "jdoe"})
    for n, item in enumerate(dev_order_items[: e.count(80)]):
        old = dict(item)
        if item["status"]["S"] in ("shipped", "delivered"):
            old["status"] = S("paid")                   # the snapshot predates shipping
        old["backupNote"] = S("snapshot before the 2024-03 price migration")
        t.items.append(old)

    # 24 ---------------------------------------------------------------- omnix-ai-dev-users-backup-2024-01-31
    t = table("omnix-ai-dev-users-backup-2024-01-31", ("userId", "S"), tags={"backup-of": "omnix-ai-dev-users"})
    for i in e.span(0, 60):
        u = e.user(i)
        t.items.append({
            "userId": S(u["id"]), "email": S(u["email"]), "name": S(f"{u['first']} {u['last']}"),
            "createdAt": S(iso(u["created"])), "status": S("active"), "roles": SS(u["roles"]),
        })

    # 25 ---------------------------------------------------------------- omnix-ai-test-scratch
    t = table("omnix-ai-test-scratch", ("pk", "S"), ("sk", "S"), tags={"owner": "jdoe", "temporary": "true"})
    r = e.rng("scratch")
    scratch = [
        {"note": S("hello from a load test"), "测试字段": S("unicode attribute name"), "naïve": BOOL(True)},
        {"emoji 🎉": S("🎉🚀✨"), "empty-list": L([]), "empty-map": M({}), "nothing": NULL},
        {"blob": B(r.randbytes(20000)), "note": S("~20 KB binary item")},
        {"nested": M({"a": M({"b": M({"c": L([M({"d": S("deep")}), N(-0.5), BOOL(False)])})})})},
        {"sets": M({"ss": SS(["α", "β"]), "ns": NS([1, 2.5, -3]), "bs": BS([b"\x00", b"\xff"])})},
        {"bigNumber": N("12345678901234567890123456789012345678"), "tiny": N("0.000000000000000000000000000000000001")},
        {"json": S('{"not":"parsed","quote":"\\""}'), "newline": S("line1\nline2\ttabbed")},
        {"copyOf": S("omnix-ai-dev-users"), "count": N(3)},
        {"zero": N(0), "negative": N(-42), "decimal": N("3.14159")},
        {"bool-set-as-list": L([BOOL(True), BOOL(False), NULL])},
        {"long-name-" + "x" * 200: S("attribute name of 210 characters")},
        {"emptyString": S(""), "emptyBinary": B(b"")},
    ]
    for i, extra in enumerate(scratch[: max(1, min(len(scratch), e.count(len(scratch))))]):
        t.items.append({"pk": S(f"scratch#{i // 4}"), "sk": S(f"item#{i:03d}"), **extra})

    # 26 ---------------------------------------------------------------- omnix-terraform-locks
    t = table("omnix-terraform-locks", ("LockID", "S"), deletion_protection=True, tags={"managed-by": "terraform"})
    for path in ["omnix-tfstate/prod/terraform.tfstate-md5", "omnix-tfstate/dev/terraform.tfstate-md5",
                 "omnix-tfstate/network/terraform.tfstate-md5"][: max(1, min(3, e.count(3)))]:
        t.items.append({"LockID": S(path), "Digest": S(hashlib.md5(f"{e.seed}:{path}".encode()).hexdigest())})

    # 27 ---------------------------------------------------------------- omnix_user_sessions_v0
    t = table("omnix_user_sessions_v0", ("token", "S"), billing="PROVISIONED", rcu=1, wcu=1, ttl="expiry")
    for i in range(e.count(40)):
        r = e.rng("session-v0", i)
        t.items.append({
            "token": S(e.ident("session-v0", i, 32)), "uid": S(e.user(r.choice(legacy_users))["id"]),
            "expiry": N(AS_OF - r.randrange(365 * DAY, 3 * 365 * DAY)), "remember_me": BOOL(r.random() < 0.5),
        })

    return tables


# ---------------------------------------------------------------------------------------------------
# What the consolidation should produce: the distinct target keys of the mapped sources (mirrors the
# key transforms and filters of mappings/omnix-ai-consolidation.yaml), so a demo can check its counts.

def expected_targets(tables):
    by_name = {t.name: t for t in tables}

    def keys(name, fn, keep=lambda item: True):
        return {fn(item) for item in by_name[name].items if keep(item)}

    s = lambda item, a: item[a].get("S", item[a].get("N"))
    return {
        "users": keys("omnix-ai-dev-users", lambda x: s(x, "userId"))
                 | keys("omnix-ai-cdk-users", lambda x: s(x, "user_id"))
                 | keys("omnix-users", lambda x: s(x, "UserId")),
        "products": keys("omnix-ai-cdk-products", lambda x: s(x, "productId"))
                    | keys("OmnixProductCatalog", lambda x: s(x, "ProductId")),
        "orders": keys("omnix-ai-dev-orders", lambda x: s(x, "orderId"))
                  | keys("omnix-ai-cdk-orders", lambda x: s(x, "order_id"))
                  | keys("omnix-orders-v1", lambda x: "ord_v1_" + s(x, "OrderId")),
        "inventory": keys("omnix-ai-dev-inventory", lambda x: (s(x, "productId"), s(x, "warehouseId")))
                     | keys("omnix-ai-cdk-inventory", lambda x: (s(x, "sku"), s(x, "location").lower())),
        "sessions": keys("omnix-ai-dev-sessions", lambda x: s(x, "sessionId"))
                    | keys("omnix-ai-cdk-sessions", lambda x: s(x, "session_id"), lambda x: s(x, "status") == "active"),
        "customer-profiles": keys("omnix-ai-cdk-customer-profiles", lambda x: s(x, "customerId"))
                             | keys("OmnixCustomerProfiles", lambda x: s(x, "CustomerID")),
        "recommendations": keys("omnix-ai-cdk-recommendations", lambda x: (s(x, "userId"), s(x, "productId"))),
        "analytics": keys("omnix-ai-cdk-analytics", lambda x: (s(x, "metric"), s(x, "bucket")))
                     | keys("omnix-ai-analytics-daily", lambda x: (s(x, "metric_name"), s(x, "date") + "T00:00:00Z")),
    }


# ---------------------------------------------------------------------------------------------------
# Talking to the server


class SeedError(Exception):
    pass


def wait_for(client, name, gone=False, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            status = client.describe_table(TableName=name)["Table"]["TableStatus"]
            if not gone and status == "ACTIVE":
                return
        except ClientError as err:
            if err.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            if gone:
                return
        if time.monotonic() > deadline:
            raise SeedError(f"table {name} did not become {'deleted' if gone else 'ACTIVE'} within {timeout}s")
        time.sleep(0.2)


def delete_estate(client, names, log):
    existing = set()
    for page in client.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    for name in names:
        if name not in existing:
            continue
        desc = client.describe_table(TableName=name)["Table"]
        if desc.get("DeletionProtectionEnabled"):
            client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)
        log(f"deleted {name}")
    for name in names:
        if name in existing:
            wait_for(client, name, gone=True)


def create_table(client, t):
    client.create_table(**t.create_request())
    wait_for(client, t.name)
    if t.ttl:
        client.update_time_to_live(TableName=t.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl})
    if t.pitr:
        client.update_continuous_backups(TableName=t.name,
                                         PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})


def value_size(v):
    """DynamoDB's item size rules, approximately: UTF-8 bytes of strings, ~1 byte per 2 digits of numbers,
    3 bytes of overhead per map or list plus 1 per element."""
    (kind, x), = v.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        return len(x.lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(x)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in x)
    if kind == "NS":
        return sum(len(n) // 2 + 2 for n in x)
    if kind == "BS":
        return sum(len(b) for b in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(y) + 1 for k, y in x.items())
    return 3 + sum(value_size(y) + 1 for y in x)      # L


def item_size(item):
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def write_items(client, t, max_attempts=10):
    for start in range(0, len(t.items), 25):
        requests = {t.name: [{"PutRequest": {"Item": item}} for item in t.items[start:start + 25]]}
        for attempt in range(max_attempts):
            unprocessed = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            requests = unprocessed
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        else:
            left = sum(len(v) for v in requests.values())
            raise SeedError(f"{t.name}: {left} items still unprocessed after {max_attempts} attempts")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Seed the 27-table omnix-ai DynamoDB estate on a local server.")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"),
                        help="DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies item counts (default 1 ≈ 2,000 items)")
    parser.add_argument("--seed", type=int, default=42, help="same seed, same items, byte for byte (default 42)")
    parser.add_argument("--reset", action="store_true", help="delete the estate's 27 tables first")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("--summary-json", metavar="PATH",
                        help="also write the tables, item counts and expected consolidated counts as JSON")
    args = parser.parse_args(argv)

    if not args.endpoint_url:
        parser.error("no endpoint: pass --endpoint-url or set AWS_ENDPOINT_URL_DYNAMODB "
                     "(this seeder creates and deletes tables; it is meant for a local server)")
    if not (args.scale > 0):
        parser.error(f"--scale must be greater than 0, got {args.scale}")
    log = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))

    started = time.monotonic()
    estate = Estate(args.seed, args.scale)
    tables = build_estate(estate)
    assert len(tables) == 27, len(tables)
    for t in tables:
        keys = [t.key_of(item) for item in t.items]
        assert len(keys) == len(set(keys)), f"duplicate keys generated for {t.name}"
        assert all(item_size(item) < 400 * 1024 for item in t.items), f"oversized item in {t.name}"

    client = boto3.client(
        "dynamodb", endpoint_url=args.endpoint_url, region_name=args.region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=120),
    )
    names = [t.name for t in tables]
    try:
        if args.reset:
            delete_estate(client, names, log)
        else:
            existing = set()
            for page in client.get_paginator("list_tables").paginate():
                existing.update(page["TableNames"])
            clash = [n for n in names if n in existing]
            if clash:
                raise SeedError(f"{len(clash)} estate tables already exist (first: {clash[0]}); "
                                "rerun with --reset to delete and recreate them")
        for t in tables:
            create_table(client, t)
            write_items(client, t)
            log(f"seeded {t.name}: {len(t.items)} items")
    except ClientError as err:
        raise SeedError(f"{err.response['Error'].get('Code')}: {err.response['Error'].get('Message')}") from err

    elapsed = time.monotonic() - started
    total = sum(len(t.items) for t in tables)
    expected = {k: len(v) for k, v in expected_targets(tables).items()}
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as f:
            json.dump({"seed": args.seed, "scale": args.scale, "totalItems": total,
                       "tables": [{"name": t.name, "key": t.key_text(), "billing": t.billing, "items": len(t.items)}
                                  for t in tables],
                       "expectedTargets": {f"omnix-ai-{{env}}-{k}": v for k, v in expected.items()}}, f, indent=2)
    if not args.quiet:
        width = max(len(t.name) for t in tables)
        kwidth = max(len(t.key_text()) for t in tables)
        print(f"{'table':<{width}}  {'key schema':<{kwidth}}  {'billing':<15}  {'items':>6}")
        print(f"{'-' * width}  {'-' * kwidth}  {'-' * 15}  {'-' * 6}")
        for t in tables:
            print(f"{t.name:<{width}}  {t.key_text():<{kwidth}}  {t.billing:<15}  {len(t.items):>6}")
        print(f"{'':<{width}}  {'':<{kwidth}}  {'total':<15}  {total:>6}")
        print()
        print("expected after consolidation (distinct target keys):")
        for k, v in expected.items():
            print(f"  omnix-ai-{{env}}-{k:<18} {v:>6}")
        print(f"\nseeded {len(tables)} tables, {total} items in {elapsed:.1f}s (seed {args.seed}, scale {args.scale:g})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SeedError as err:
        print(f"seed-omnix-estate: error: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
