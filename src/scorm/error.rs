//! Why a package is refused, in words an organism's administrator can act on.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PackageError {
    #[error("Le fichier n'est pas une archive ZIP lisible : un paquet SCORM ou cmi5 est un ZIP.")]
    NotAZip,
    #[error("Le paquet contient plus de {0} fichiers : refusé.")]
    TooManyFiles(usize),
    #[error(
        "Le paquet dépasserait {0} Mo une fois décompressé (archive piégée ou trop lourde) : refusé."
    )]
    Bomb(u64),
    #[error("« {0} » est un lien symbolique : les liens sont refusés dans un paquet.")]
    Link(String),
    #[error(
        "Le paquet ne contient ni imsmanifest.xml ni cmi5.xml à sa racine : ce n'est pas un paquet SCORM ou cmi5."
    )]
    NoManifest,
    #[error("{file} n'est pas un XML bien formé (ligne {row}, colonne {col}).")]
    Malformed { file: String, row: u32, col: u32 },
    #[error("{0} n'est pas encodé en UTF-8.")]
    NotUtf8(String),
    #[error("{0} déclare une DTD (<!DOCTYPE>) : refusé, par sécurité (entités externes).")]
    Dtd(String),
    #[error("{0} est trop volumineux pour un manifeste.")]
    TooLarge(String),
    #[error(
        "imsmanifest.xml n'est pas un manifeste IMS (balise racine <{0}> au lieu de <manifest>)."
    )]
    NotAManifest(String),
    #[error("Le manifeste ne décrit aucune organisation (balise <organization>).")]
    NoOrganization,
    #[error("Le paquet ne propose aucun contenu à lancer (SCO ou ressource).")]
    NothingToLaunch,
    #[error(
        "Le chemin « {0} » sort du paquet (« .. », chemin absolu ou adresse externe) : refusé."
    )]
    Escapes(String),
    #[error("L'élément « {item} » renvoie à la ressource « {resource} », absente du manifeste.")]
    MissingResource { item: String, resource: String },
    #[error("La ressource « {0} » n'indique pas de fichier à lancer (attribut href).")]
    NoHref(String),
    #[error("Le fichier de lancement « {0} » n'est pas dans le paquet.")]
    LaunchMissing(String),
    #[error("cmi5.xml : {element} sans attribut ou élément obligatoire « {field} ».")]
    Cmi5Missing { element: String, field: String },
    #[error("cmi5.xml : valeur « {value} » invalide pour « {field} ».")]
    Cmi5Value { field: String, value: String },
    #[error("cmi5.xml : la balise racine est <{0}> au lieu de <courseStructure>.")]
    NotACourse(String),
}
