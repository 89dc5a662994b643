"""Demo knowledge base: how-to guides and FAQs for the demo's services, in English with
Spanish and Portuguese translations for the most read ones, a few drafts and one in review.

Written through :mod:`itsmo.knowledge.services` by the demo's agent (author) and the Mexico
desk's manager (publisher). Reads ``ctx.data["users"]`` and ``ctx.data["services"]``;
adds ``ctx.data["articles"]`` (by number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from itsmo.core.demo import DemoContext, step

from . import services
from .models import ArticleType, State

HOW_TO, FAQ = ArticleType.HOW_TO, ArticleType.FAQ


@dataclass(frozen=True)
class Demo:
    services: tuple[str, ...]
    type: str
    title: str
    body: str
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)
    state: str = State.PUBLISHED


ARTICLES: list[Demo] = [
    Demo(
        ("sap-sales",),
        HOW_TO,
        "Sales order ends with a pricing error in VA01",
        "## Symptoms\n\nSaving a sales order in **VA01** stops with *Pricing error: mandatory "
        "condition PR00 is missing*.\n\n## Steps\n\n1. Open the item's conditions tab.\n"
        "2. Check that the customer has a price list in the customer master (sales area data).\n"
        "3. If the condition record is missing, ask pricing (`VK11`) to create it.\n"
        "4. Save the order again.\n\nIf several customers are affected at once, report an "
        "incident on *SAP Sales & Distribution*.",
        {
            "es": (
                "El pedido de venta termina con error de precios en VA01",
                "## Síntoma\n\nAl grabar un pedido en **VA01** aparece *Error de precios: falta "
                "la condición obligatoria PR00*.\n\n## Pasos\n\n1. Abra la pestaña de "
                "condiciones de la posición.\n2. Verifique la lista de precios del cliente.\n"
                "3. Si falta el registro de condición, pida a precios que lo cree (`VK11`).\n"
                "4. Grabe de nuevo el pedido.",
            ),
            "pt": (
                "Pedido de venda termina com erro de preço na VA01",
                "## Sintoma\n\nAo gravar um pedido na **VA01** aparece *Erro de preço: falta a "
                "condição obrigatória PR00*.\n\n## Passos\n\n1. Abra a aba de condições do "
                "item.\n2. Verifique a lista de preços do cliente.\n3. Se faltar o registro "
                "de condição, peça ao time de preços (`VK11`).\n4. Grave o pedido novamente.",
            ),
        },
    ),
    Demo(
        ("sap-sales",),
        HOW_TO,
        "Reprint an invoice stuck in the spool queue",
        "Invoices that do not print usually wait in the spool.\n\n1. Run transaction `SP01`.\n"
        "2. Filter by your user and today's date.\n3. Select the request and choose "
        "**Print directly**.\n4. If the status is *Error*, pick another output device.",
        {
            "es": (
                "Reimprimir una factura detenida en la cola de impresión",
                "1. Ejecute la transacción `SP01`.\n2. Filtre por su usuario y la fecha de hoy."
                "\n3. Seleccione la orden y elija **Imprimir directamente**.",
            )
        },
    ),
    Demo(
        ("sap-sales", "sap-finance"),
        FAQ,
        "Why does my order show a credit block?",
        "Orders are blocked when the customer exceeds its credit limit or has overdue items. "
        "Credit management releases them in `VKM1` within two business hours. You do not need "
        "to report an incident; ask your credit analyst if it is urgent.",
        {
            "es": (
                "¿Por qué mi pedido tiene bloqueo de crédito?",
                "Los pedidos se bloquean cuando el cliente supera su límite de crédito o tiene "
                "partidas vencidas. Crédito los libera en `VKM1` en dos horas hábiles.",
            ),
            "pt": (
                "Por que meu pedido está com bloqueio de crédito?",
                "Os pedidos são bloqueados quando o cliente ultrapassa o limite de crédito ou "
                "tem títulos vencidos. O crédito libera na `VKM1` em até duas horas úteis.",
            ),
        },
    ),
    Demo(
        ("route-sales",),
        HOW_TO,
        "Route sales handheld does not sync",
        "## Before calling the desk\n\n- Check that mobile data is on and the signal has at "
        "least two bars.\n- Open the route app, go to **Menu → Sync** and wait for the "
        "progress bar.\n- If it fails, restart the handheld (hold the power key 10 seconds) "
        "and sync again.\n\nOrders are kept on the device; nothing is lost while it is "
        "offline.",
        {
            "es": (
                "La terminal de preventa no sincroniza",
                "- Verifique que los datos móviles estén activos.\n- Abra la app de ruta, "
                "**Menú → Sincronizar**.\n- Si falla, reinicie la terminal (botón de encendido "
                "10 segundos) y sincronice de nuevo.\n\nLos pedidos quedan guardados en la "
                "terminal.",
            ),
            "pt": (
                "O coletor da pré-venda não sincroniza",
                "- Verifique se os dados móveis estão ligados.\n- Abra o app de rota, "
                "**Menu → Sincronizar**.\n- Se falhar, reinicie o coletor (botão liga/desliga "
                "por 10 segundos) e sincronize de novo.",
            ),
        },
    ),
    Demo(
        ("route-sales",),
        HOW_TO,
        "Pair the Bluetooth route printer again",
        "1. Switch the printer off and on; the blue light must blink.\n2. On the handheld open "
        "**Settings → Bluetooth**, forget the printer.\n3. Search again and pair with code "
        "`0000`.\n4. In the route app choose **Printer → Test page**.",
        {
            "es": (
                "Volver a emparejar la impresora Bluetooth de ruta",
                "1. Apague y encienda la impresora.\n2. En la terminal, olvide la impresora en "
                "**Ajustes → Bluetooth**.\n3. Emparéjela de nuevo con el código `0000`.\n4. "
                "Imprima una página de prueba.",
            )
        },
    ),
    Demo(
        ("wms",),
        HOW_TO,
        "RF scanner rejects the warehouse user",
        "The RF gun logs in with your network account.\n\n1. Check Caps Lock on the gun's "
        "keypad.\n2. If you changed your password today, wait 15 minutes for it to reach the "
        "warehouse server.\n3. After three failures the account locks: unlock it yourself in "
        "the self-service password page.",
        {
            "pt": (
                "O coletor RF rejeita o usuário do armazém",
                "1. Verifique o Caps Lock no teclado do coletor.\n2. Se trocou a senha hoje, "
                "aguarde 15 minutos.\n3. Após três falhas a conta bloqueia: desbloqueie na "
                "página de autoatendimento de senha.",
            )
        },
    ),
    Demo(
        ("wms",),
        FAQ,
        "A wave was released but no picking list came out",
        "Picking lists print on the printer of the wave's staging area. Check the printer "
        "assigned to the area in **WMS → Areas**, then reprint from **Waves → Print list**.",
    ),
    Demo(
        ("tms",),
        HOW_TO,
        "Carrier cannot see the load tender",
        "1. Check that the shipment is in status *Tendered* in TMS.\n2. Confirm the carrier's "
        "portal e-mail in the carrier master.\n3. Resend with **Actions → Re-tender**.",
    ),
    Demo(
        ("email",),
        HOW_TO,
        "Mailbox full: free up space",
        "## Quick wins\n\n- Empty **Deleted Items** and **Junk**.\n- Sort the inbox by size "
        "and move large attachments to OneDrive.\n- Turn on the online archive: **File → "
        "Tools → Mailbox Cleanup**.\n\nThe quota is 50 GB; you get a warning at 45 GB.",
        {
            "es": (
                "Buzón lleno: liberar espacio",
                "- Vacíe **Elementos eliminados** y **Correo no deseado**.\n- Ordene la bandeja "
                "por tamaño y mueva los adjuntos grandes a OneDrive.\n- Active el archivo en "
                "línea.\n\nLa cuota es de 50 GB.",
            ),
            "pt": (
                "Caixa de correio cheia: liberar espaço",
                "- Esvazie **Itens excluídos** e **Lixo eletrônico**.\n- Ordene por tamanho e "
                "mova anexos grandes para o OneDrive.\n- Ative o arquivo online.\n\nA cota é "
                "de 50 GB.",
            ),
        },
    ),
    Demo(
        ("email",),
        HOW_TO,
        "Outlook keeps asking for the password",
        "1. Close Outlook.\n2. Open **Credential Manager → Windows Credentials** and remove "
        "entries starting with `MicrosoftOffice`.\n3. Start Outlook and sign in once with your "
        "network account.\n\nIf the prompt comes back after a password change, restart the "
        "laptop while connected to the office network or VPN.",
        {
            "es": (
                "Outlook pide la contraseña una y otra vez",
                "1. Cierre Outlook.\n2. En **Administrador de credenciales** elimine las "
                "entradas `MicrosoftOffice`.\n3. Abra Outlook e inicie sesión.",
            ),
            "pt": (
                "O Outlook fica pedindo a senha",
                "1. Feche o Outlook.\n2. No **Gerenciador de credenciais** remova as entradas "
                "`MicrosoftOffice`.\n3. Abra o Outlook e entre com sua conta de rede.",
            ),
        },
    ),
    Demo(
        ("email", "collaboration"),
        FAQ,
        "How do I share a calendar with my team?",
        "In Outlook right-click the calendar, choose **Sharing permissions**, add the people "
        "or the team's group and pick *Can view all details*.",
        {
            "es": (
                "¿Cómo comparto mi calendario con el equipo?",
                "En Outlook haga clic derecho en el calendario, **Permisos para compartir**, "
                "agregue a las personas y elija *Puede ver todos los detalles*.",
            )
        },
    ),
    Demo(
        ("collaboration",),
        HOW_TO,
        "Teams call has no sound",
        "1. In the call choose **More → Device settings** and select your headset.\n2. Unplug "
        "and plug the headset again.\n3. Check Windows sound settings: the headset must be "
        "the default device.",
        {
            "pt": (
                "Chamada do Teams sem som",
                "1. Na chamada escolha **Mais → Configurações do dispositivo** e selecione o "
                "fone.\n2. Desconecte e conecte o fone.\n3. Confira o dispositivo padrão no "
                "Windows.",
            )
        },
    ),
    Demo(
        ("plant-mes",),
        HOW_TO,
        "MES line terminal frozen",
        "Production data is buffered for 30 minutes, so a restart loses nothing.\n\n1. Press "
        "`Ctrl+Alt+F4` to close the MES client.\n2. Start it from the desktop icon.\n3. If the "
        "terminal does not respond at all, call the plant's shift technician: do **not** "
        "power it off during a batch.",
        {
            "es": (
                "Terminal MES de línea congelada",
                "Los datos se guardan 30 minutos, reiniciar no pierde nada.\n\n1. Pulse "
                "`Ctrl+Alt+F4`.\n2. Abra el cliente MES de nuevo.\n3. Si no responde, llame al "
                "técnico de turno; **no** apague durante un lote.",
            ),
            "pt": (
                "Terminal MES da linha travado",
                "Os dados ficam em buffer por 30 minutos.\n\n1. Pressione `Ctrl+Alt+F4`.\n2. "
                "Abra o cliente MES novamente.\n3. Se não responder, chame o técnico do turno; "
                "**não** desligue durante um lote.",
            ),
        },
    ),
    Demo(
        ("plant-mes",),
        FAQ,
        "Why can't I close the batch record?",
        "A batch closes only when every quality check is signed. Open **Batch → Open "
        "checks**, sign the missing ones or ask quality to sign them.",
    ),
    Demo(
        ("sap-finance",),
        HOW_TO,
        "Posting period is closed (error F5 201)",
        "Month-end close locks the period on the third business day. Post in the current "
        "period or ask the country's finance controller to open it in `OB52` for your "
        "account type.",
        {
            "es": (
                "El periodo contable está cerrado (error F5 201)",
                "El cierre de mes bloquea el periodo el tercer día hábil. Contabilice en el "
                "periodo actual o pida al controller que lo abra en `OB52`.",
            )
        },
    ),
    Demo(
        ("sap-procurement",),
        HOW_TO,
        "Purchase order waits for release",
        "1. Display the order in `ME23N`, tab **Release strategy**.\n2. The first pending "
        "code shows who must approve.\n3. Approvers release in `ME29N` or in the Fiori inbox.",
    ),
    Demo(
        ("payroll", "hr-self-service"),
        FAQ,
        "Where do I find my payslip?",
        "Payslips are in the HR self-service portal under **Pay → Payslips**, from the 28th "
        "of each month. Older payslips are kept for five years.",
        {
            "es": (
                "¿Dónde encuentro mi recibo de nómina?",
                "En el portal de autoservicio de RR. HH., **Pago → Recibos**, a partir del día "
                "28 de cada mes.",
            ),
            "pt": (
                "Onde encontro meu holerite?",
                "No portal de autoatendimento de RH, **Pagamento → Holerites**, a partir do "
                "dia 28 de cada mês.",
            ),
        },
    ),
    Demo(
        ("expenses",),
        HOW_TO,
        "Submit an expense report with receipts",
        "1. Open **Expenses → New report**.\n2. Photograph each receipt with the mobile app or "
        "upload a PDF.\n3. Pick the cost centre and submit; your manager gets an e-mail.",
        {
            "pt": (
                "Enviar um relatório de despesas com recibos",
                "1. Abra **Despesas → Novo relatório**.\n2. Fotografe cada recibo no app ou "
                "envie um PDF.\n3. Escolha o centro de custo e envie.",
            )
        },
    ),
    Demo(
        ("identity",),
        HOW_TO,
        "Reset your password or unlock your account",
        "Use the self-service password page from any browser:\n\n1. Enter your user name.\n"
        "2. Confirm with the code sent to your mobile phone.\n3. Choose a new password of at "
        "least 12 characters.\n\nThe new password reaches every system within 15 minutes.",
        {
            "es": (
                "Restablecer la contraseña o desbloquear la cuenta",
                "Use la página de autoservicio de contraseñas:\n\n1. Escriba su usuario.\n2. "
                "Confirme con el código enviado a su celular.\n3. Elija una contraseña de al "
                "menos 12 caracteres.",
            ),
            "pt": (
                "Redefinir a senha ou desbloquear a conta",
                "Use a página de autoatendimento de senha:\n\n1. Digite seu usuário.\n2. "
                "Confirme com o código enviado ao celular.\n3. Escolha uma senha com pelo "
                "menos 12 caracteres.",
            ),
        },
    ),
    Demo(
        ("identity",),
        FAQ,
        "How do I set up multi-factor authentication on a new phone?",
        "Sign in to the security info page from your laptop, choose **Add method → "
        "Authenticator app** and scan the QR code with the new phone. Remove the old phone "
        "afterwards.",
    ),
    Demo(
        ("internet", "lan-wifi"),
        HOW_TO,
        "Connect to the VPN from home",
        "1. Open the VPN client and choose the gateway of your region.\n2. Sign in with your "
        "network account and approve the MFA prompt.\n3. If it stays in *Connecting*, switch "
        "from Wi-Fi to a cable or a phone hotspot to rule out the home router.",
        {
            "es": (
                "Conectarse a la VPN desde casa",
                "1. Abra el cliente VPN y elija la puerta de enlace de su región.\n2. Inicie "
                "sesión y apruebe el MFA.\n3. Si queda en *Conectando*, pruebe con cable o con "
                "el punto de acceso del celular.",
            ),
            "pt": (
                "Conectar à VPN de casa",
                "1. Abra o cliente VPN e escolha o gateway da sua região.\n2. Entre e aprove o "
                "MFA.\n3. Se ficar em *Conectando*, teste com cabo ou roteador do celular.",
            ),
        },
    ),
    Demo(
        ("lan-wifi",),
        FAQ,
        "Which Wi-Fi network should I use in the office?",
        "Company laptops join **SU-Corp** automatically. Visitors use **SU-Guest** with the "
        "daily code from reception. Personal phones use **SU-BYOD** after enrolling in the "
        "device portal.",
        {
            "es": (
                "¿Qué red Wi-Fi uso en la oficina?",
                "Las laptops de la empresa usan **SU-Corp**. Visitas: **SU-Guest** con el "
                "código de recepción. Celulares personales: **SU-BYOD**.",
            )
        },
    ),
    Demo(
        ("print",),
        HOW_TO,
        "Office printer jams on every page",
        "1. Open every tray and remove torn paper, including small pieces near the rollers.\n"
        "2. Fan the paper stack and load it with the arrow up.\n3. Use 75 to 90 g/m² paper; "
        "labels and thick paper go through the manual feeder.\n4. If it still jams, report an "
        "incident with the printer's asset tag.",
        {
            "es": (
                "La impresora de oficina se atasca en cada página",
                "1. Abra las bandejas y retire el papel roto.\n2. Airee el papel y cárguelo con "
                "la flecha hacia arriba.\n3. Use papel de 75 a 90 g/m².",
            ),
            "pt": (
                "A impressora do escritório trava em todas as páginas",
                "1. Abra as bandejas e retire o papel rasgado.\n2. Ventile o papel e coloque "
                "com a seta para cima.\n3. Use papel de 75 a 90 g/m².",
            ),
        },
    ),
    Demo(
        ("print",),
        HOW_TO,
        "Add a network printer to your laptop",
        "Open **Settings → Printers → Add printer**, pick the printer by its asset tag (it is "
        "on the front label) and print a test page.",
    ),
    Demo(
        ("endpoint-security",),
        FAQ,
        "The antivirus quarantined a file I need",
        "Do not disable the protection. Report an incident on *Endpoint Protection* with the "
        "file name; security reviews it and restores it if it is safe.",
    ),
    Demo(
        ("bi",),
        HOW_TO,
        "Sales dashboard shows yesterday's figures",
        "The sales dashboard refreshes at 07:00 local time after the nightly load. If it "
        "still shows old data at 09:00, the nightly load failed and the BI team already has "
        "an alert; check the status banner before reporting.",
    ),
    # Work in progress: not visible to end users.
    Demo(
        ("contact-centre",),
        HOW_TO,
        "Softphone drops calls after 30 seconds",
        "Draft: collecting the steps with the telephony vendor.",
        state=State.DRAFT,
    ),
    Demo(
        ("fleet-telematics",),
        HOW_TO,
        "Truck tracker shows no position",
        "1. Check the tracker's LED (green = GPS fix).\n2. Power-cycle the unit from the "
        "fuse box.\n3. Report the plate number if it stays offline for an hour.",
        state=State.REVIEW,
    ),
    Demo(
        ("sap-production-planning",),
        FAQ,
        "Why did MRP not create a planned order?",
        "Draft for review by the planning key users.",
        state=State.DRAFT,
    ),
]


def _article(ctx: DemoContext, demo: Demo, author, manager) -> None:
    catalogue = ctx.data.get("services", {})
    article = services.create_article(
        actor=author,
        title=demo.title,
        body=demo.body,
        article_type=demo.type,
        services=[catalogue[code] for code in demo.services if code in catalogue],
    )
    for language, (title, body) in demo.translations.items():
        services.save_translation(article, actor=author, language=language, title=title, body=body)
    if demo.state in (State.REVIEW, State.PUBLISHED):
        services.transition(article, State.REVIEW, actor=author)
    if demo.state == State.PUBLISHED:
        services.transition(article, State.PUBLISHED, actor=manager)
    ctx.data.setdefault("articles", {})[article.number] = article


@step("knowledge", after=["incidents"])
def load_knowledge(ctx: DemoContext) -> None:
    users = ctx.data.get("users", {})
    author = users.get("agent.mx")
    manager = users.get("manager.mx")
    if manager is not None and not services.may_publish(manager):
        manager = None  # the system publishes
    for demo in ARTICLES:
        _article(ctx, demo, author, manager)
