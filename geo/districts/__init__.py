"""学区 (school districts): formation (a MIP), balance reports, teacher exchange (轮岗)."""
