"""Load provinces, districts and subdistricts from the `geothai` package (idempotent)."""

import geothai
from sqlalchemy import select

from models import District, Province, Subdistrict, db


def load_geography() -> int:
    """Insert whatever DOPA units are missing; returns how many were added."""
    known = {
        model: set(db.session.scalars(select(model.code)))
        for model in (Province, District, Subdistrict)
    }
    added = []
    for p in geothai.provinces():
        if p.code not in known[Province]:
            added.append(Province(code=p.code, name_th=p.name_th, name_en=p.name_en))
        for d in geothai.districts(p.code):
            if d.code not in known[District]:
                added.append(District(code=d.code, province_code=p.code, name_th=d.name_th,
                                      name_en=d.name_en))
            for s in geothai.subdistricts(d.code):
                if s.code not in known[Subdistrict]:
                    added.append(Subdistrict(
                        code=s.code, district_code=d.code, name_th=s.name_th, name_en=s.name_en,
                        postal_code=s.postal_codes[0] if s.postal_codes else None,
                    ))
    db.session.add_all(added)
    db.session.commit()
    return len(added)
