"""Check a running ``docker compose up``: the proxy and both replicas answer alike, and a write
through one replica is answered by the other. ``python deploy/compose_check.py ADMIN_KEY``

Key: ``docker compose exec -T api-1 catchment keys create --role admin``. The replicas publish
no port; this reaches them at their addresses on the compose network (from the Docker host).
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

POINT = {"lon": 151.1796, "lat": -33.7738}  # Lindfield, in the bundled sample


def replica(name: str) -> str:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    out = subprocess.run(["docker", "inspect", "-f", fmt, name], capture_output=True, text=True, check=True)
    return f"http://{out.stdout.strip()}:8000"


def schools(answer: dict) -> list[dict]:
    return [s for lv in answer["levels"] for z in lv["zones"] for s in z["schools"]]


def main(key: str, project: str = "main") -> None:
    a, b, proxy = replica(f"{project}_api-1_1"), replica(f"{project}_api-2_1"), "http://127.0.0.1:8000"
    for base in (proxy, a, b):
        r = httpx.get(base + "/v1/lookup", params=POINT, timeout=10)
        print(base, r.status_code, [s["name"] for s in schools(r.json())])
    code = schools(httpx.get(a + "/v1/lookup", params=POINT).json())[0]["code"]
    school = httpx.get(a + f"/v1/schools/{code}").json()
    keep = ("code", "name", "lon", "lat", "levels", "capacity", "enrolment", "status", "grades", "name_zh")
    body = {k: v for k, v in school.items() if k in keep}
    renamed = school["name"] + " (compose check)"
    auth = {"Authorization": f"Bearer {key}"}
    r = httpx.put(a + f"/v1/schools/{code}", json={**body, "name": renamed}, headers=auth, timeout=10)
    r.raise_for_status()
    done = time.monotonic()
    while time.monotonic() - done < 5:
        if any(s["name"] == renamed for s in schools(httpx.get(b + "/v1/lookup", params=POINT).json())):
            print(f"api-2 answers the new name {time.monotonic() - done:.2f} s after api-1's PUT returned")
            break
        time.sleep(0.02)
    else:
        print("api-2 did NOT answer the write within 5 s")
    httpx.put(a + f"/v1/schools/{code}", json=body, headers=auth, timeout=10).raise_for_status()
    print("networks (no server paths):", [n["name"] for n in httpx.get(proxy + "/v1/networks", timeout=10).json()])


if __name__ == "__main__":
    main(*sys.argv[1:])
