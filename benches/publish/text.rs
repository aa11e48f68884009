//! The words of the generated lessons: short practical sheets in French, one theme per module
//! of the CQP, long enough for the minutes they announce (900 words read in about 5 minutes,
//! content/README.md: 180 words a minute).

/// Words read in one minute, as content/README.md counts them.
pub const WORDS_PER_MINUTE: usize = 180;

struct Theme {
    topics: &'static [&'static str],
    sentences: &'static [&'static str],
    table: [(&'static str, &'static str); 3],
}

const THEMES: [Theme; 4] = [
    Theme {
        topics: &[
            "relancer un patient pour un examen prescrit",
            "préparer le dossier avant une consultation de suivi",
            "tenir à jour le calendrier vaccinal",
            "organiser un rendez-vous chez un spécialiste",
            "suivre les dépistages organisés",
            "préparer le retour à domicile après une hospitalisation",
            "accompagner un patient en affection de longue durée",
            "transmettre une information au médecin traitant",
        ],
        sentences: &[
            "Avant la consultation, l'assistant médical vérifie que les résultats des examens prescrits lors de la visite précédente sont arrivés et les classe dans le dossier.",
            "Un patient en affection de longue durée a un protocole de soins : ses examens reviennent à dates fixes et un simple tableau de suivi évite les oublis.",
            "Quand un résultat manque, on appelle le laboratoire ou le patient, puis on note dans le dossier la date de l'appel et la réponse obtenue.",
            "Le calendrier vaccinal change presque chaque année ; la version en vigueur est publiée par le ministère de la santé et se consulte avant toute relance.",
            "Le carnet de vaccination, papier ou numérique, est la seule source fiable : une vaccination que personne n'a notée est considérée comme non faite.",
            "Les programmes de dépistage organisé du cancer du sein, du col de l'utérus et du cancer colorectal envoient des invitations que les patients égarent souvent.",
            "Lorsqu'un patient sort de l'hôpital, la lettre de liaison arrive au cabinet ; elle dit quels traitements ont changé et quels rendez-vous sont à prendre.",
            "Prendre un rendez-vous chez un spécialiste pour un patient, c'est aussi lui remettre le courrier du médecin et lui dire quels documents apporter.",
            "L'assistant ne commente jamais un résultat devant le patient : il le transmet au médecin, qui seul l'interprète et l'annonce.",
            "Le dossier médical partagé permet de retrouver les comptes rendus d'hospitalisation et les résultats récents, avec l'accord du patient.",
            "Une relance bien faite est courte, courtoise et datée ; elle rappelle l'examen attendu sans en dire plus que nécessaire au téléphone.",
            "Les patients les plus fragiles sont aussi ceux qui oublient le plus leurs rendez-vous : une liste tenue chaque semaine permet de les repérer.",
            "Coordonner le parcours, c'est savoir qui fait quoi autour du patient : infirmier à domicile, pharmacien, kinésithérapeute, spécialiste.",
            "L'annuaire des correspondants du cabinet se tient à jour au fil des appels ; un numéro faux fait perdre du temps à tout le monde.",
            "Le médecin fixe les priorités du suivi ; l'assistant organise, relance et rend compte, sans décider à sa place.",
            "Chaque action de suivi laisse une trace dans le dossier : ce qui a été fait, par qui et quand, pour que le collègue du lendemain sache où en est le patient.",
        ],
        table: [
            (
                "Résultat d'examen attendu et absent",
                "Appeler le laboratoire, noter l'appel dans le dossier",
            ),
            (
                "Invitation au dépistage égarée",
                "Expliquer comment en obtenir une autre, sans juger",
            ),
            (
                "Lettre de liaison reçue",
                "La classer, la signaler au médecin le jour même",
            ),
        ],
    },
    Theme {
        topics: &[
            "accueillir un patient sans rendez-vous",
            "vérifier la carte Vitale et les droits du patient",
            "prendre un appel urgent au standard",
            "créer le dossier d'un nouveau patient",
            "expliquer le tiers payant",
            "organiser l'agenda d'une journée chargée",
            "répondre à une demande de certificat",
            "annoncer un retard du médecin",
        ],
        sentences: &[
            "L'accueil commence avant la première parole : un regard, un bonjour et le nom du patient prononcé correctement le mettent en confiance.",
            "La carte Vitale se lit à chaque venue ; si elle n'est pas à jour, le patient la met à jour en pharmacie ou dans une borne de sa caisse.",
            "Les droits du patient se vérifient en ligne avec le service de l'Assurance maladie, ce qui évite les rejets de feuilles de soins.",
            "Au téléphone, l'assistant pose quelques questions simples pour savoir si l'appel relève de l'urgence, puis applique la consigne écrite par le médecin.",
            "Une douleur dans la poitrine, une difficulté à respirer ou un malaise font appeler le 15 sans attendre : la consigne est affichée près du téléphone.",
            "Créer un dossier, c'est recopier l'identité telle qu'elle figure sur la pièce d'identité, avec le nom de naissance et tous les prénoms.",
            "Le tiers payant dispense le patient d'avancer tout ou partie des frais ; il s'applique de droit dans certains cas, comme les soins d'une affection de longue durée.",
            "Un agenda bien tenu garde des créneaux pour les urgences du jour et sépare les consultations longues des consultations courtes.",
            "Quand le médecin a du retard, on prévient les patients qui attendent et ceux qui vont arriver ; la plupart acceptent d'attendre s'ils savent combien de temps.",
            "Un certificat engage le médecin : l'assistant prépare la demande et le dossier, le médecin rédige et signe après avoir examiné le patient.",
            "Le secret professionnel s'applique aussi à l'accueil : on ne dit pas à voix haute pourquoi un patient vient, ni devant la salle d'attente.",
            "La file d'attente se gère avec calme ; un patient qui s'impatiente se sent souvent oublié, et un mot suffit à le rassurer.",
            "Les messages laissés par les patients sont notés avec la date, l'heure, le numéro de rappel et l'objet, puis transmis à la bonne personne.",
            "Le logiciel du cabinet garde l'historique des rendez-vous : on y voit les absences répétées et on peut en parler avec le patient.",
            "Un patient qui ne parle pas bien français a droit à la même information : phrases courtes, documents traduits, interprète si nécessaire.",
            "Avant de raccrocher, on reformule ce qui a été convenu : le jour, l'heure et ce que le patient doit apporter.",
        ],
        table: [
            (
                "Carte Vitale non à jour",
                "Proposer la mise à jour en pharmacie, vérifier les droits en ligne",
            ),
            (
                "Appel pour une douleur thoracique",
                "Appliquer la consigne : appel au 15 sans délai",
            ),
            (
                "Médecin en retard de trente minutes",
                "Prévenir la salle d'attente et les patients suivants",
            ),
        ],
    },
    Theme {
        topics: &[
            "préparer la salle de soins le matin",
            "nettoyer le plan d'examen entre deux patients",
            "vérifier les dates de péremption",
            "éliminer les déchets d'activités de soins à risque infectieux",
            "relever la température du réfrigérateur à vaccins",
            "déclarer un événement indésirable",
            "réagir à une piqûre accidentelle",
            "contrôler l'identité avant un soin",
        ],
        sentences: &[
            "La friction hydroalcoolique se fait sur des mains sèches et visiblement propres, sans bijou, jusqu'à ce que le produit ait complètement séché.",
            "Entre deux patients, le plan d'examen se nettoie et se désinfecte avec un produit détergent-désinfectant, en respectant le temps de contact indiqué.",
            "Le réfrigérateur à vaccins est réservé aux produits de santé ; sa température, entre 2 et 8 degrés, se relève et se note chaque jour.",
            "Une rupture de la chaîne du froid se signale au médecin avant toute utilisation des vaccins concernés, qui sont mis à part en attendant sa décision.",
            "Les déchets piquants ou coupants vont dans un collecteur rigide, fermé dès qu'il atteint le trait de remplissage, jamais tassé.",
            "Le prestataire qui collecte les déchets à risque infectieux remet un bon de prise en charge que le cabinet conserve.",
            "Après une piqûre avec une aiguille souillée, on nettoie la plaie à l'eau et au savon, on désinfecte, puis on appelle le médecin sans attendre.",
            "Les dates de péremption se contrôlent une fois par mois ; le produit qui périme en premier se place devant.",
            "Un événement indésirable se déclare pour comprendre ce qui s'est passé et éviter qu'il se reproduise, pas pour désigner un coupable.",
            "Avant tout soin, on demande au patient de dire lui-même son nom, son prénom et sa date de naissance, puis on les compare au dossier.",
            "Le plan de nettoyage affiché dit ce qui se nettoie, à quelle fréquence, avec quel produit et qui s'en charge.",
            "Les gants ne remplacent pas l'hygiène des mains : on se frictionne les mains avant de les mettre et après les avoir retirés.",
            "Le linge et les surfaces visiblement souillés par du sang se traitent tout de suite, avec des gants et le produit prévu par le protocole.",
            "La démarche qualité du cabinet repose sur des gestes simples, écrits et partagés, que chacun peut vérifier.",
            "Un produit ouvert porte la date d'ouverture ; certains flacons ne se gardent que quelques semaines une fois entamés.",
            "Quand une procédure n'est pas claire, on la signale : une consigne que personne ne comprend n'est pas appliquée.",
        ],
        table: [
            (
                "Réfrigérateur à 11 degrés le matin",
                "Isoler les vaccins, prévenir le médecin, noter l'incident",
            ),
            (
                "Collecteur d'aiguilles au trait de remplissage",
                "Le fermer définitivement, en ouvrir un neuf",
            ),
            (
                "Deux patients du même nom en salle d'attente",
                "Faire dire la date de naissance avant tout soin",
            ),
        ],
    },
    Theme {
        topics: &[
            "mesurer la pression artérielle",
            "peser et mesurer un enfant",
            "préparer un électrocardiogramme",
            "vérifier la trousse d'urgence",
            "installer un patient pour un examen",
            "gérer le stock de consommables",
            "relever la saturation en oxygène",
            "préparer le matériel d'un petit geste technique",
        ],
        sentences: &[
            "La pression artérielle se mesure au calme, patient assis depuis quelques minutes, le bras à hauteur du cœur et un brassard adapté à sa taille.",
            "Un brassard trop petit surestime la pression ; le cabinet dispose de plusieurs tailles, rangées à côté du tensiomètre.",
            "L'enfant se pèse déshabillé, sur une balance étalonnée, et sa mesure est reportée aussitôt sur la courbe de son carnet de santé.",
            "Pour l'électrocardiogramme, le patient est allongé, détendu, la peau propre et sèche là où les électrodes sont posées.",
            "Les électrodes des membres et du thorax ont chacune leur place ; une inversion produit un tracé trompeur que le médecin doit pouvoir écarter.",
            "La trousse d'urgence se vérifie selon une liste datée : chaque produit, sa quantité, sa date de péremption et le nom de celui qui a vérifié.",
            "Le saturomètre se pose sur un doigt propre, sans vernis ; on attend que la valeur se stabilise avant de la noter.",
            "Installer un patient, c'est lui expliquer ce qui va se passer, préserver sa pudeur et l'aider à monter sur la table s'il en a besoin.",
            "Le stock de consommables se compte à date fixe ; un seuil de commande évite de manquer de gants ou de bandelettes un vendredi soir.",
            "Les valeurs mesurées sont notées dans le dossier avec l'heure, l'appareil utilisé et toute circonstance particulière, comme un patient anxieux.",
            "L'assistant mesure et transmet ; il n'interprète pas une valeur et n'en déduit aucune conduite à tenir devant le patient.",
            "Les appareils de mesure ont un entretien et un contrôle périodiques, inscrits sur un registre tenu par le cabinet.",
            "Avant un petit geste technique, le plateau est préparé selon la fiche du médecin, sur un plan propre et désinfecté.",
            "Un défibrillateur automatisé externe se vérifie chaque semaine : voyant de l'appareil, date des électrodes et charge de la batterie.",
            "Les gestes d'urgence s'apprennent en formation et s'entretiennent ; l'attestation de formation aux gestes et soins d'urgence se renouvelle.",
            "Après l'examen, le matériel à usage unique est jeté dans la bonne filière et le matériel réutilisable est nettoyé selon le protocole.",
        ],
        table: [
            (
                "Pression mesurée très élevée",
                "Reprendre la mesure au calme, prévenir le médecin",
            ),
            (
                "Électrode qui se décolle",
                "Nettoyer et sécher la peau, poser une électrode neuve",
            ),
            (
                "Produit périmé dans la trousse d'urgence",
                "Le remplacer, noter le changement sur la liste",
            ),
        ],
    },
];

/// Sentences every module's sheets may use: the posture of the assistant at work.
const COMMON: &[&str] = &[
    "L'assistant médical agit sur délégation du médecin et dans les limites de sa fiche de poste, qu'il connaît et peut montrer.",
    "Ce qui n'est pas écrit n'existe pas : une information utile au suivi du patient se note dans le dossier, au bon endroit.",
    "En cas de doute, on demande au médecin avant d'agir ; une question posée à temps évite bien des erreurs.",
    "Le patient a le droit de comprendre ce qu'on lui demande : on explique avec des mots simples et on vérifie qu'il a compris.",
    "Une bonne organisation se voit peu : le cabinet tourne, les patients attendent moins et le médecin consacre son temps au soin.",
    "Chaque cabinet a ses habitudes ; elles se décrivent dans des fiches courtes que le nouvel arrivant lit dès son premier jour.",
    "Le travail en équipe suppose des transmissions claires : ce qui est fait, ce qui reste à faire et ce qui inquiète.",
    "La confidentialité s'applique partout : à l'accueil, au téléphone, sur l'écran laissé allumé et dans les papiers oubliés sur le bureau.",
    "Une erreur signalée tôt se corrige facilement ; cachée, elle revient plus tard et coûte davantage au patient comme au cabinet.",
    "Le temps passé à préparer le matin se regagne dans la journée : moins d'allers-retours, moins d'oublis, moins de stress.",
    "Les patients âgés ou isolés demandent plus de temps ; l'agenda le prévoit au lieu de le subir.",
    "Les outils numériques aident à condition d'être tenus à jour ; un rappel automatique mal paramétré fait plus de mal que de bien.",
    "Se former fait partie du métier : les règles changent, les outils aussi, et le médecin compte sur un assistant au fait des nouveautés.",
    "Un geste appris se répète jusqu'à devenir sûr, puis se vérifie de temps en temps avec un collègue ou le médecin.",
    "Le respect du patient passe par des détails : frapper avant d'entrer, fermer la porte, l'appeler par son nom.",
    "À la fin de la journée, un dernier coup d'œil aux tâches en attente permet de partir l'esprit libre et de reprendre le lendemain sans perte.",
];

const HEADINGS: [&str; 10] = [
    "Ce qu'il faut savoir",
    "Au cabinet, concrètement",
    "Les points de vigilance",
    "Ce que vous transmettez au médecin",
    "Un exemple",
    "Les erreurs fréquentes",
    "Avec le patient",
    "Dans l'équipe",
    "Ce que dit le dossier",
    "Pour aller plus loin",
];

/// The sentences a sheet uses, its module's and the common ones, in an order of its own
/// (a shuffle seeded by the sheet), each used once before any comes back.
struct Sentences {
    order: Vec<&'static str>,
    next: usize,
}

impl Sentences {
    fn new(theme: &Theme, seed: u64) -> Sentences {
        let mut order: Vec<&'static str> = theme.sentences.iter().chain(COMMON).copied().collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            order.swap(i, ((state >> 33) as usize) % (i + 1));
        }
        Sentences { order, next: 0 }
    }

    fn next(&mut self) -> &'static str {
        let s = self.order[self.next % self.order.len()];
        self.next += 1;
        s
    }
}

/// Words as a reader counts them: Markdown's marks (`-`, `|`, `##`) are none.
pub fn words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// The `n`th practical sheet of module `module` (0 to 3): its title and its Markdown body,
/// at least `minutes` × 180 words long: an introduction, then sections of a paragraph or a
/// list, and in every other sheet a table of situations.
pub fn lesson(module: usize, n: usize, minutes: u32) -> (String, String) {
    let theme = &THEMES[module % THEMES.len()];
    let topic = theme.topics[n % theme.topics.len()];
    let title = format!("Fiche pratique {} — {topic}", n + 1);
    let mut sentences = Sentences::new(theme, (module as u64 + 1) * 1_000_003 + n as u64 * 7919);
    let target = minutes as usize * WORDS_PER_MINUTE;
    let mut body = format!(
        "Cette fiche reprend en pratique ce que le module enseigne : {topic}. {} {}\n",
        sentences.next(),
        sentences.next()
    );
    let mut section = 0;
    while words(&body) < target {
        let heading = HEADINGS[(n + section) % HEADINGS.len()];
        body.push_str(&format!("\n## {heading}\n\n"));
        if section == 2 && n.is_multiple_of(2) {
            body.push_str("| Situation | Ce que fait l'assistant |\n|---|---|\n");
            for (situation, action) in theme.table {
                body.push_str(&format!("| {situation} | {action} |\n"));
            }
            body.push('\n');
        }
        if section % 2 == 1 {
            for _ in 0..3 {
                body.push_str(&format!("- {}\n", sentences.next()));
            }
        } else {
            let mut paragraph: Vec<&str> = Vec::new();
            while paragraph.len() < 5
                && words(&body) + paragraph.iter().map(|s| words(s)).sum::<usize>() < target
            {
                paragraph.push(sentences.next());
            }
            body.push_str(&paragraph.join(" "));
            body.push('\n');
        }
        section += 1;
    }
    (title, body)
}

/// How long a sheet's body takes to read, in whole minutes at 180 words a minute.
pub fn reading_minutes(body: &str) -> usize {
    words(body) / WORDS_PER_MINUTE
}
