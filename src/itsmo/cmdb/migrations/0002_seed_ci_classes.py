"""Seed the standard CI classes and their declared attributes."""

from django.db import migrations

S, I, D, B, DT, IP, C = "string", "integer", "decimal", "boolean", "date", "ip", "choice"

# code, name, parent code, description, [(name, label, type, required, choices)]
CLASSES = [
    ("server", "Server", None, "Physical server.", [
        ("manufacturer", "Manufacturer", S, False, []),
        ("model", "Model", S, False, []),
        ("os", "Operating system", S, False, []),
        ("os_version", "OS version", S, False, []),
        ("cpu_count", "CPUs", I, False, []),
        ("memory_gb", "Memory (GB)", D, False, []),
        ("ip_address", "IP address", IP, False, []),
        ("warranty_end", "Warranty end", DT, False, []),
    ]),
    ("virtual_machine", "Virtual machine", "server", "Virtual server on a hypervisor host.", [
        ("hypervisor", "Hypervisor", C, False, ["vmware", "hyper_v", "kvm", "cloud"]),
    ]),
    ("database_instance", "Database instance", None, "A running database engine.", [
        ("engine", "Engine", C, True,
         ["postgresql", "oracle", "sql_server", "mysql", "hana", "other"]),
        ("engine_version", "Engine version", S, False, []),
        ("port", "Port", I, False, []),
    ]),
    ("application", "Application", None, "Installed or hosted software.", [
        ("vendor", "Vendor", S, False, []),
        ("software_version", "Version", S, False, []),
        ("url", "URL", S, False, []),
    ]),
    ("business_application", "Business application", "application",
     "An application the business knows by name (SAP ECC, Route Sales).", [
         ("business_owner", "Business owner", S, False, []),
         ("is_custom", "Custom-built", B, False, []),
     ]),
    ("network_device", "Network device", None, "Router, switch, firewall, access point.", [
        ("device_type", "Device type", C, True,
         ["router", "switch", "firewall", "access_point", "load_balancer"]),
        ("manufacturer", "Manufacturer", S, False, []),
        ("model", "Model", S, False, []),
        ("firmware", "Firmware", S, False, []),
        ("management_ip", "Management IP", IP, False, []),
    ]),
    ("link", "Link / circuit", None, "WAN, internet or point-to-point circuit.", [
        ("carrier", "Carrier", S, False, []),
        ("circuit_id", "Circuit ID", S, False, []),
        ("link_type", "Link type", C, False, ["mpls", "internet", "sd_wan", "lte", "p2p"]),
        ("bandwidth_mbps", "Bandwidth (Mbit/s)", I, False, []),
    ]),
    ("storage", "Storage", None, "SAN, NAS or object storage system.", [
        ("storage_type", "Storage type", C, False, ["san", "nas", "object"]),
        ("capacity_tb", "Capacity (TB)", D, False, []),
        ("manufacturer", "Manufacturer", S, False, []),
    ]),
    ("end_user_device", "End-user device", None, "Laptop, desktop, printer.", [
        ("device_type", "Device type", C, False, ["laptop", "desktop", "thin_client", "printer"]),
        ("model", "Model", S, False, []),
        ("os", "Operating system", S, False, []),
        ("assigned_to", "Assigned to", S, False, []),
    ]),
    ("handheld", "Handheld", None, "Route-sales or warehouse handheld terminal.", [
        ("model", "Model", S, False, []),
        ("os", "Operating system", S, False, []),
        ("imei", "IMEI", S, False, []),
        ("route", "Sales route", S, False, []),
    ]),
    ("cloud_service", "Cloud service", None, "A service consumed from a cloud provider.", [
        ("provider", "Provider", C, True, ["aws", "azure", "gcp", "oci", "other"]),
        ("cloud_region", "Cloud region", S, False, []),
        ("account", "Account / subscription", S, False, []),
    ]),
    ("rack", "Rack / site equipment", None, "Rack, UPS, cooling: equipment of a site.", [
        ("equipment_type", "Equipment type", C, False, ["rack", "ups", "cooling", "generator"]),
        ("rack_units", "Rack units", I, False, []),
        ("capacity_kva", "Capacity (kVA)", D, False, []),
    ]),
]


def seed(apps, schema_editor):
    CIClass = apps.get_model("cmdb", "CIClass")
    CIAttribute = apps.get_model("cmdb", "CIAttribute")
    by_code = {}
    for code, name, parent, description, attributes in CLASSES:
        ci_class, _ = CIClass.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description,
                      "parent": by_code.get(parent)})
        by_code[code] = ci_class
        for position, (attr, label, kind, required, choices) in enumerate(attributes):
            CIAttribute.objects.get_or_create(
                ci_class=ci_class, name=attr,
                defaults={"label": label, "type": kind, "is_required": required,
                          "choices": choices, "position": position})


def unseed(apps, schema_editor):
    CIClass = apps.get_model("cmdb", "CIClass")
    codes = [c[0] for c in CLASSES]
    CIClass.objects.filter(code__in=codes, parent__isnull=False).delete()
    CIClass.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("cmdb", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
